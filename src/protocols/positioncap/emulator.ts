/**
 * A fake PandA capture port's text: arm cycles of header block, data lines and END line, in the
 * ASCII format the PandA writes (the header of protocols.md §2.6). Serve it with `bindTcpPlayer`.
 */
import type { PositioncapFieldType } from './messages.js';

export interface PandaFieldOptions {
  /** block and field, e.g. `INENC1.VAL` */
  name: string;
  type: PositioncapFieldType;
  /** e.g. `Value`, `Min`, `Max`, `Mean` */
  capture: string;
  /** ` scale: 1 offset: 0 units: …` is written for doubles */
  units?: string;
}

export interface PandaArmOptions {
  /** samples per arm cycle */
  samples: number;
  /** arm cycles (default 1) */
  arms?: number;
  fields?: PandaFieldOptions[];
  /** arm time of the first cycle (default 2023-12-19T07:51:12.754Z); later cycles are 10 s apart */
  armTime?: Date;
}

/** the fields of the reference header */
export const PANDA_FIELDS: PandaFieldOptions[] = [
  { name: 'PCAP.BITS0', type: 'uint32', capture: 'Value' },
  { name: 'INENC1.VAL', type: 'double', capture: 'Min' },
  { name: 'INENC1.VAL', type: 'double', capture: 'Max' },
  { name: 'PCAP.TS_TRIG', type: 'double', capture: 'Value', units: 's' },
  { name: 'INENC1.VAL', type: 'double', capture: 'Mean' },
  { name: 'SFP3_SYNC_IN.POS1', type: 'double', capture: 'Mean', units: '(null)' },
];

/** the value of field `index` in sample `sample` of arm cycle `arm` */
export function emulatedPandaValue(field: PandaFieldOptions, index: number, arm: number, sample: number): number {
  if (field.type === 'uint32') return (301989857 + sample) >>> 0;
  if (field.name === 'PCAP.TS_TRIG') return 0.32175968 + sample * 0.01;
  if (field.type === 'int32') return sample - (arm + 1) * 1000;
  return arm * 100 + sample + index / 4;
}

function headerText(fields: PandaFieldOptions[], armTime: Date): string {
  const lines = fields.map((f) => ` ${f.name} ${f.type} ${f.capture}${f.type === 'double' ? ` scale: ${f.name === 'PCAP.TS_TRIG' ? '8e-09' : '1'} offset: 0 units: ${f.units ?? ''}` : ''}`);
  return `arm_time: ${armTime.toISOString()}\nmissed: 0\nprocess: Scaled\nformat: ASCII\nfields:\n${lines.join('\n')}\n\n`;
}

/** The lines the PandA sends after `OK\n`: per arm cycle the header block (one string), the data lines and the END line. */
export function* pandaCapture(options: PandaArmOptions): Generator<string> {
  const fields = options.fields ?? PANDA_FIELDS;
  const first = options.armTime ?? new Date('2023-12-19T07:51:12.754Z');
  for (let arm = 0; arm < (options.arms ?? 1); arm++) {
    yield headerText(fields, new Date(first.getTime() + arm * 10_000));
    for (let sample = 0; sample < options.samples; sample++) {
      yield `${fields.map((f, i) => ` ${emulatedPandaValue(f, i, arm, sample)}`).join('')}\n`;
    }
    yield `END ${options.samples} Disarmed\n`;
  }
}

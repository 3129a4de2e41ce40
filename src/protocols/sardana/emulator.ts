/**
 * A fake Sardana step scan as its JSON recorder POSTs it (the Door RecordData shapes of tango.md
 * §4): `[path, body]` messages for data_desc, one record_data per point, a custom_data and
 * record_end. Post them with `postHttpMessages`. Bodies are JSON as Python writes it: NaN for a
 * counter not read yet (timescan, ascanct, meshct), as Sardana sends it.
 */
import { stringifyPythonJson } from '../python-json.js';

export interface SardanaScanOptions {
  /** scan points (ascan intervals + 1) */
  points: number;
  motor?: string;
  /** motor start and end positions (default 0, 10) */
  from?: number;
  to?: number;
  /** integration time, s (default 0.1) */
  integration?: number;
  serialno?: number;
  /** null: a session without ScanDir */
  scandir?: string | null;
  /** values that replace the emulated ones in point `n`, e.g. NaN for a counter not read yet */
  overrides?: (n: number) => Record<string, number>;
  /** counter channels (default ct01…ct04 of the demo pool) */
  counters?: string[];
}

const DEFAULT_COUNTERS = [1, 2, 3, 4].map((i) => `tango://sardana-host:10000/expchan/ctctrl01/${i}`);

const post = (path: string, body: unknown): Buffer[] => [Buffer.from(path), Buffer.from(stringifyPythonJson(body))];

/** the motor position and counter values of point `n` */
export function emulatedSardanaPoint(options: SardanaScanOptions, n: number): Record<string, number> {
  const from = options.from ?? 0;
  const to = options.to ?? 10;
  const position = options.points > 1 ? from + ((to - from) * n) / (options.points - 1) : from;
  const counters = options.counters ?? DEFAULT_COUNTERS;
  return {
    [options.motor ?? 'mot01']: position,
    ...Object.fromEntries(counters.map((name, i) => [name, (options.integration ?? 0.1) * (i + 1) * (n + 1)])),
  };
}

export function sardanaScanPosts(options: SardanaScanOptions): Buffer[][] {
  const motor = options.motor ?? 'mot01';
  const counters = options.counters ?? DEFAULT_COUNTERS;
  const integration = options.integration ?? 0.1;
  const serialno = options.serialno ?? 1;
  const start = Date.now() / 1000;
  const messages = [post('/v1/data_desc', {
    serialno, scandir: options.scandir === undefined ? '/tmp/sardana' : options.scandir, title: `ascan ${motor} ${options.from ?? 0} ${options.to ?? 10} ${options.points - 1} ${integration}`,
    column_desc: [
      { name: 'point_nb', label: '#Pt No', dtype: 'int64', shape: [] },
      { name: motor, label: motor, dtype: 'float64', shape: [] },
      ...counters.map((name) => ({ name, label: name.split('/').slice(-2).join('/'), dtype: 'float64', shape: [] })),
      { name: 'timestamp', label: 'dt', dtype: 'float64', shape: [] },
    ],
    ref_moveables: [motor], estimatedtime: options.points * integration * 1.2, total_scan_intervals: options.points - 1,
    starttime: new Date(start * 1000).toString(), counters, scanfile: ['stream.daq', `scan_${serialno}.h5`],
  })];
  for (let n = 0; n < options.points; n++) {
    messages.push(post('/v1/record_data', {
      point_nb: n, ...emulatedSardanaPoint(options, n), ...options.overrides?.(n), timestamp: (n + 1) * integration * 1.2,
    }));
  }
  messages.push(post('/v1/custom_data', { note: 'custom data is not forwarded' }));
  messages.push(post('/v1/record_end', { endtime: new Date((start + options.points * integration * 1.2) * 1000).toString(), deadtime: 0.02 }));
  return messages;
}

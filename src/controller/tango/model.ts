/**
 * The pipeline as one Tango device: its attributes (state, progress, components, worker scaling,
 * one per pipeline parameter) and commands, read from and written to the controller. The REST
 * router serves it; the PyTango bridge mirrors it for native Tango clients.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { MappingError, TriggerSequence } from '../../core/mapping/index.js';
import { ParameterValueError, defaultBytes, parameterBytes, parseParameter } from '../../core/parameters.js';
import type { ParameterDescription } from '../../core/types.js';
import { RequestError, type Controller } from '../controller.js';
import { TangoError } from './errors.js';
import { PipelineHealth, type HealthOptions } from './health.js';
import { loadRatio, pipelineLoad, statusText, type StatusView } from './status.js';

export type TangoDataType = 'DevState' | 'DevString' | 'DevLong64' | 'DevLong' | 'DevDouble' | 'DevBoolean' | 'DevVoid';
export type TangoValue = string | number | boolean | null | string[] | number[];

export interface AttributeReading {
  name: string;
  value: TangoValue;
  quality: 'ATTR_VALID';
  /** epoch milliseconds */
  timestamp: number;
}

/** AttributeInfoEx as the REST API renders it: every enum and limit as a string */
export interface AttributeInfo {
  name: string;
  writable: 'READ' | 'READ_WRITE';
  data_format: 'SCALAR' | 'SPECTRUM';
  data_type: TangoDataType;
  max_dim_x: number;
  max_dim_y: number;
  description: string;
  label: string;
  unit: string;
  standard_unit: string;
  display_unit: string;
  format: string;
  min_value: string;
  max_value: string;
  min_alarm: string;
  max_alarm: string;
  writable_attr_name: string;
  level: 'OPERATOR' | 'EXPERT';
  extensions: string[];
  alarms: Record<string, string | string[]>;
  events: Record<string, Record<string, string | string[]>>;
  sys_extensions: string[];
  isMemorized: boolean;
  isSetAtInit: boolean;
  memorized: 'NOT_MEMORIZED';
  root_attr_name: string;
  enum_label: string[];
}

export interface CommandInfo {
  level: 'OPERATOR';
  cmd_tag: number;
  in_type: TangoDataType;
  out_type: TangoDataType;
  in_type_desc: string;
  out_type_desc: string;
}

/** what one request sees: State and Status come from the same assessment; each part is taken when first read */
type View = StatusView;

interface AttributeSpec {
  name: string;
  type: TangoDataType;
  format: 'SCALAR' | 'SPECTRUM';
  description: string;
  unit?: string;
  display?: string;
  min?: number;
  max?: number;
  read(view: View): TangoValue | Promise<TangoValue>;
  /** receives the value already parsed to the attribute's type and range-checked */
  write?(value: string | number | boolean): Promise<void> | void;
}

interface CommandSpec {
  name: string;
  info: CommandInfo;
  execute(input: unknown, view: View): Promise<TangoValue | undefined> | TangoValue | undefined;
}

export interface PipelineDeviceOptions extends HealthOptions {
  /** the Tango name, domain/family/member */
  device: string;
}

const NOT_SPECIFIED = 'Not specified';
const SPECTRUM_LENGTH = 1024;
/** more worker processes than this on one host is a typing error, not a plan */
const MAX_WORKERS = 64;
const PARAMETER_TYPES: Record<ParameterDescription['dtype'], TangoDataType> = {
  str: 'DevString', int: 'DevLong64', float: 'DevDouble', bool: 'DevBoolean', binary: 'DevString',
};
/** path words of the REST API that an attribute name would shadow */
const RESERVED = new Set(['value', 'info']);

export class PipelineDevice {
  readonly name: string;
  private readonly health: PipelineHealth;
  /**
   * Each parameter attribute's value with the version (and type) it belongs to: a value changes only
   * with a new version, so a poll need not read and parse it again. A binary one holds the path last
   * written through Tango.
   */
  private readonly parameterValues = new Map<string, { version: string; dtype: ParameterDescription['dtype']; value: TangoValue }>();
  private readonly fixed: AttributeSpec[];
  private readonly commandSpecs: CommandSpec[];

  constructor(readonly controller: Controller, options: PipelineDeviceOptions) {
    this.name = options.device;
    this.health = new PipelineHealth(controller, options);
    this.fixed = this.fixedAttributes();
    this.commandSpecs = this.commands();
  }

  close(): void {
    this.health.close();
  }

  private view(): View {
    const { controller, health } = this;
    let assessment: View['assessment'] | undefined;
    let load: View['load'] | undefined;
    let progress: View['progress'] | undefined;
    return {
      get assessment() { return assessment ??= health.assess(); },
      get load() { return load ??= pipelineLoad(controller); },
      get progress() { return progress ??= controller.progress(); },
    };
  }

  private fixedAttributes(): AttributeSpec[] {
    const c = this.controller;
    return [
      { name: 'State', type: 'DevState', format: 'SCALAR', description: 'ON idle, RUNNING during a scan, INIT while components start, FAULT when a component is missing or failed', read: (v) => v.assessment.state },
      { name: 'Status', type: 'DevString', format: 'SCALAR', description: 'problems, one line per component, and the event counts', read: (v) => statusText(c, v) },
      { name: 'completedEvents', type: 'DevLong64', format: 'SCALAR', description: 'events of the current scan that passed the whole pipeline', read: (v) => v.progress.completed_events },
      { name: 'totalEvents', type: 'DevLong64', format: 'SCALAR', description: 'events of the current scan, the start and end events included', read: (v) => v.progress.total_events },
      { name: 'streams', type: 'DevString', format: 'SPECTRUM', description: 'streams served by the live ingesters', read: () => c.availableStreams() },
      { name: 'workers', type: 'DevString', format: 'SPECTRUM', description: 'names of the live workers', read: () => c.components.workers.map((w) => w.name) },
      {
        name: 'workerLoad', type: 'DevDouble', format: 'SPECTRUM', display: '%4.2f', description: 'busy fraction of each worker over the scan, in the order of workers',
        read: (v) => c.components.workers.map((w) => loadRatio(v.load[w.name]?.intervals.scan)),
      },
      {
        name: 'workerCount', type: 'DevLong', format: 'SCALAR', min: 0, max: MAX_WORKERS,
        description: 'worker processes of the first worker group; writable when dranspose run starts the workers',
        read: () => c.workerScaler?.workerCount ?? c.components.workers.length,
        write: (count) => {
          if (!c.workerScaler) throw new TangoError('DRANSPOSE_NotScalable', 'workerCount is writable only when dranspose run starts the workers', `${this.name}/workerCount`);
          try {
            c.workerScaler.setWorkerCount(count as number);
          } catch (error) {
            throw new TangoError('DRANSPOSE_NotScalable', (error as Error).message, `${this.name}/workerCount`);
          }
        },
      },
    ];
  }

  private parameterAttribute(d: ParameterDescription): AttributeSpec {
    const c = this.controller;
    const origin = `${this.name}/${d.name}`;
    const binary = d.dtype === 'binary';
    return {
      name: d.name, type: PARAMETER_TYPES[d.dtype], format: 'SCALAR',
      description: `${d.description ?? `parameter ${d.name}`}${binary ? ' (write an absolute file path on the controller host; the file content becomes the value)' : ''}`,
      read: async () => {
        const version = c.parameterVersion(d.name);
        const cached = this.parameterValues.get(d.name);
        if (cached && cached.version === version && cached.dtype === d.dtype) return cached.value;
        // a binary value not written through Tango (or since overwritten) has no path to show
        if (binary) return this.remember(d, version, '');
        // never set: the description's default, which may change with the components, so not kept
        if (version === undefined) return parseStored(d, defaultBytes(d), origin);
        // getParameter reads the version taken above (it looks it up before its first await)
        const stored = await c.getParameter(d.name);
        return this.remember(d, version, parseStored(d, stored ?? defaultBytes(d), origin));
      },
      write: async (value) => {
        const bytes = binary ? await readParameterFile(value as string, origin) : parameterBytes(d.dtype, value);
        try {
          await c.setParameter(d.name, bytes);
        } catch (error) {
          if (error instanceof RequestError) throw new TangoError('DRANSPOSE_ParameterRejected', error.message, origin);
          throw error;
        }
        // a value is read once under its new version; a path has no other source than this write
        if (binary) this.remember(d, c.parameterVersion(d.name), value as string);
      },
    };
  }

  /** keeps a value read or written under its version; returns it */
  private remember(d: ParameterDescription, version: string | undefined, value: TangoValue): TangoValue {
    if (version !== undefined) this.parameterValues.set(d.name, { version, dtype: d.dtype, value });
    return value;
  }

  /** fixed attributes first; a parameter whose name clashes with one (or with a REST path word) is left out */
  private attributeSpecs(): AttributeSpec[] {
    const taken = new Set([...this.fixed.map((a) => a.name.toLowerCase()), ...RESERVED]);
    const parameters = this.controller.descriptions().filter((d) => !taken.has(d.name.toLowerCase()));
    return [...this.fixed, ...parameters.map((d) => this.parameterAttribute(d))];
  }

  private spec(name: string, specs = this.attributeSpecs()): AttributeSpec {
    const found = specs.find((a) => a.name.toLowerCase() === name.toLowerCase());
    if (!found) throw new TangoError('API_AttrNotFound', `${name} is not an attribute of ${this.name}`, this.name, 404);
    return found;
  }

  attributeNames(): string[] {
    return this.attributeSpecs().map((a) => a.name);
  }

  attributeInfo(name: string): AttributeInfo {
    const a = this.spec(name);
    const limit = (n: number | undefined) => (n === undefined ? NOT_SPECIFIED : String(n));
    return {
      name: a.name,
      writable: a.write ? 'READ_WRITE' : 'READ',
      data_format: a.format,
      data_type: a.type,
      max_dim_x: a.format === 'SPECTRUM' ? SPECTRUM_LENGTH : 1,
      max_dim_y: 0,
      description: a.description,
      label: a.name,
      unit: a.unit ?? '',
      standard_unit: 'No standard unit',
      display_unit: 'No display unit',
      format: a.display ?? NOT_SPECIFIED,
      min_value: limit(a.min),
      max_value: limit(a.max),
      min_alarm: NOT_SPECIFIED,
      max_alarm: NOT_SPECIFIED,
      writable_attr_name: a.write ? a.name : 'None',
      level: 'OPERATOR',
      extensions: [],
      alarms: { min_alarm: NOT_SPECIFIED, max_alarm: NOT_SPECIFIED, min_warning: NOT_SPECIFIED, max_warning: NOT_SPECIFIED, delta_t: NOT_SPECIFIED, delta_val: NOT_SPECIFIED, extensions: [] },
      events: {
        ch_event: { rel_change: NOT_SPECIFIED, abs_change: NOT_SPECIFIED, extensions: [] },
        per_event: { period: NOT_SPECIFIED, extensions: [] },
        arch_event: { rel_change: NOT_SPECIFIED, abs_change: NOT_SPECIFIED, period: NOT_SPECIFIED, extensions: [] },
      },
      sys_extensions: [],
      isMemorized: false,
      isSetAtInit: false,
      memorized: 'NOT_MEMORIZED',
      root_attr_name: NOT_SPECIFIED,
      enum_label: [],
    };
  }

  /** reads several attributes from one look at the pipeline; a failing one becomes its TangoError */
  async read(names: string[]): Promise<(AttributeReading | TangoError)[]> {
    const view = this.view();
    const specs = this.attributeSpecs();
    return await Promise.all(names.map(async (name) => {
      try {
        const spec = this.spec(name, specs);
        return { name: spec.name, value: await spec.read(view), quality: 'ATTR_VALID' as const, timestamp: Date.now() };
      } catch (error) {
        if (error instanceof TangoError) return error;
        throw error;
      }
    }));
  }

  async readOne(name: string): Promise<AttributeReading> {
    const [reading] = await this.read([name]);
    if (reading instanceof TangoError) throw reading;
    return reading;
  }

  /** writes then reads back, as PUT .../value does */
  async write(name: string, value: unknown): Promise<AttributeReading> {
    const spec = this.spec(name);
    if (!spec.write) throw new TangoError('API_AttrNotWritable', `attribute ${spec.name} is not writable`, `${this.name}/${spec.name}`);
    await spec.write(parseWriteValue(spec, value, `${this.name}/${spec.name}`));
    return await this.readOne(spec.name);
  }

  private commands(): CommandSpec[] {
    const info = (in_type: TangoDataType, out_type: TangoDataType, in_type_desc: string, out_type_desc: string): CommandInfo =>
      ({ level: 'OPERATOR', cmd_tag: 0, in_type, out_type, in_type_desc, out_type_desc });
    return [
      { name: 'State', info: info('DevVoid', 'DevState', 'Uninitialised', 'Device state'), execute: (_, v) => v.assessment.state },
      { name: 'Status', info: info('DevVoid', 'DevString', 'Uninitialised', 'Device status'), execute: (_, v) => statusText(this.controller, v) },
      {
        name: 'SetSequence',
        info: info('DevString', 'DevString', 'trigger map as JSON, the body of POST /api/v1/sequence', 'id of the new scan'),
        execute: (input) => this.setSequence(input),
      },
      {
        name: 'Stop', info: info('DevVoid', 'DevVoid', 'Uninitialised', 'Uninitialised'),
        execute: async () => { await this.controller.stopScan(); return undefined; },
      },
    ];
  }

  commandInfos(): { name: string; info: CommandInfo }[] {
    return this.commandSpecs.map(({ name, info }) => ({ name, info }));
  }

  commandInfo(name: string): { name: string; info: CommandInfo } {
    const { info, name: canonical } = this.command(name);
    return { name: canonical, info };
  }

  private command(name: string): CommandSpec {
    const found = this.commandSpecs.find((c) => c.name.toLowerCase() === name.toLowerCase());
    if (!found) throw new TangoError('API_CommandNotFound', `${name} is not a command of ${this.name}`, this.name, 404);
    return found;
  }

  async execute(name: string, input: unknown): Promise<{ name: string; output: TangoValue | undefined }> {
    const command = this.command(name);
    const origin = `${this.name}/${command.name}`;
    const takesNothing = command.info.in_type === 'DevVoid';
    if (takesNothing ? input !== undefined && input !== null : typeof input !== 'string') {
      throw new TangoError('API_IncompatibleCmdArgumentType', `${command.name} takes ${takesNothing ? 'no input' : `a ${command.info.in_type}`}, got ${JSON.stringify(input)?.slice(0, 80)}`, origin);
    }
    return { name: command.name, output: await command.execute(input, this.view()) };
  }

  private async setSequence(input: unknown): Promise<string> {
    const origin = `${this.name}/SetSequence`;
    let body: unknown;
    try {
      body = JSON.parse(input as string);
    } catch (error) {
      throw new TangoError('DRANSPOSE_BadSequence', `the trigger map is not JSON: ${(error as Error).message}`, origin);
    }
    try {
      return await this.controller.setSequence(TriggerSequence.fromSequenceRequest(body));
    } catch (error) {
      if (error instanceof MappingError) throw new TangoError('DRANSPOSE_BadSequence', error.message, origin);
      if (error instanceof RequestError) throw new TangoError('DRANSPOSE_SequenceRefused', error.message, origin);
      throw error;
    }
  }

  state(): { state: string; status: string } {
    const view = this.view();
    return { state: view.assessment.state, status: statusText(this.controller, view) };
  }
}

function parseStored(d: ParameterDescription, bytes: Buffer, origin: string): TangoValue {
  try {
    return parseParameter(d.dtype, bytes) as TangoValue;
  } catch (error) {
    throw new TangoError('DRANSPOSE_BadParameterValue', `the stored value of ${d.name} is not a ${d.dtype}: ${(error as Error).message}`, origin);
  }
}

/** a written value (query text or JSON) as the attribute's type, within its limits */
function parseWriteValue(spec: AttributeSpec, raw: unknown, origin: string): string | number | boolean {
  if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') {
    throw new TangoError('API_IncompatibleAttrDataType', `${spec.name} takes a scalar ${spec.type}, got ${JSON.stringify(raw)?.slice(0, 80)}`, origin);
  }
  const text = String(raw);
  let value: string | number | boolean;
  try {
    switch (spec.type) {
      case 'DevLong': case 'DevLong64': value = parseParameter('int', Buffer.from(text)) as number; break;
      case 'DevDouble': value = parseParameter('float', Buffer.from(text)) as number; break;
      case 'DevBoolean': value = parseParameter('bool', Buffer.from(text)) as boolean; break;
      default: value = text;
    }
  } catch (error) {
    if (error instanceof ParameterValueError) throw new TangoError('API_IncompatibleAttrDataType', `${spec.name} (${spec.type}): ${error.message}`, origin);
    throw error;
  }
  if (typeof value === 'number' && ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max))) {
    throw new TangoError('API_WAttrOutsideLimit', `${spec.name}: ${value} is outside [${spec.min ?? '-inf'}, ${spec.max ?? 'inf'}]`, origin);
  }
  return value;
}

async function readParameterFile(path: string, origin: string): Promise<Buffer> {
  if (!isAbsolute(path)) throw new TangoError('DRANSPOSE_FileNotReadable', `expected an absolute file path, got ${JSON.stringify(path)}`, origin);
  try {
    return await readFile(path);
  } catch (error) {
    throw new TangoError('DRANSPOSE_FileNotReadable', `cannot read ${path}: ${(error as Error).message}`, origin);
  }
}

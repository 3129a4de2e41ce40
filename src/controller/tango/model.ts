/**
 * The pipeline as one Tango device: its attributes (state, progress, components, worker load at a
 * glance, worker scaling, live results of the reducer, one per pipeline parameter) and commands,
 * read from and written to the controller. The REST router serves it; the PyTango bridge mirrors
 * it for native Tango clients.
 *
 * The device remembers, per attribute, when its value last changed and its last few values (the
 * REST `history`, `Last-Modified` and `ETag`), and per command its last few executions. A binary
 * parameter takes bytes only: the controller never opens a path a client names.
 */
import { createHash } from 'node:crypto';
import { checkJsonDepth } from '../../core/http/body.js';
import { MappingError, TriggerSequence } from '../../core/mapping/index.js';
import { ParameterValueError, defaultBytes, parameterBytes, parseParameter } from '../../core/parameters.js';
import type { ParameterDescription } from '../../core/types.js';
import { RequestError, type Controller } from '../controller.js';
import { TangoError, type TangoFailure as TangoFailureRecord } from './errors.js';
import { PipelineHealth, type HealthOptions } from './health.js';
import { EventRate } from './event-rate.js';
import type { ImageValue, LiveResults } from './results.js';
import { loadRatio, pipelineLoad, statusText, type StatusView } from './status.js';

export type TangoDataType = 'DevState' | 'DevString' | 'DevLong64' | 'DevLong' | 'DevDouble' | 'DevBoolean' | 'DevVoid';
export type TangoValue = string | number | boolean | null | (string | number | boolean)[] | ImageValue;
export type Quality = 'ATTR_VALID' | 'ATTR_INVALID';

export interface AttributeReading {
  name: string;
  /** null when the quality is ATTR_INVALID */
  value: TangoValue;
  quality: Quality;
  /** epoch milliseconds */
  timestamp: number;
  /** why the value is ATTR_INVALID (REST clients see it; Tango has no place for it) */
  reason?: string;
}

/** a reading with what REST caching needs: when the value last changed, and a tag of the value */
export interface TrackedReading extends AttributeReading {
  changedAt: number;
  etag: string;
}

export interface CommandRecord {
  name: string;
  output?: TangoValue;
  timestamp: number;
}

/** a value that cannot be served: the attribute reads with quality INVALID */
export class InvalidValue {
  constructor(readonly reason: string) {}
}

/** AttributeInfoEx as the REST API renders it: every enum and limit as a string */
export interface AttributeInfo {
  name: string;
  writable: 'READ' | 'READ_WRITE';
  data_format: 'SCALAR' | 'SPECTRUM' | 'IMAGE';
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
  format: AttributeInfo['data_format'];
  description: string;
  label?: string;
  unit?: string;
  display?: string;
  min?: number;
  max?: number;
  /** the largest spectrum, or image width and height */
  maxX?: number;
  maxY?: number;
  /** a binary parameter: written as bytes, read as their size and digest */
  binary?: boolean;
  read(view: View): TangoValue | InvalidValue | Promise<TangoValue | InvalidValue>;
  /** receives the value already parsed to the attribute's type and range-checked (bytes for a binary one) */
  write?(value: string | number | boolean | Buffer): Promise<void> | void;
}

interface CommandSpec {
  name: string;
  info: CommandInfo;
  execute(input: unknown, view: View): Promise<TangoValue | undefined> | TangoValue | undefined;
}

export interface PipelineDeviceOptions extends HealthOptions {
  /** the Tango name, domain/family/member */
  device: string;
  /** live results of the reducer served as attributes (`tango.results`) */
  results?: LiveResults;
}

/** the fields of an attribute's info a client may change (PUT .../info), kept by the controller */
const WRITABLE_INFO = ['label', 'description', 'unit', 'standard_unit', 'display_unit', 'format', 'min_alarm', 'max_alarm'] as const;
type InfoOverrides = Partial<Record<(typeof WRITABLE_INFO)[number], string>>;

const NOT_SPECIFIED = 'Not specified';
const SPECTRUM_LENGTH = 1024;
/** live results may be long spectra and whole images */
const RESULT_SPECTRUM_LENGTH = 1 << 20;
const RESULT_IMAGE_SIDE = 1 << 14;
/** values kept per attribute, and executions per command, for the REST history */
export const HISTORY_LENGTH = 10;
/** the tag of an extension that marks a binary parameter's attribute (the bridge uploads files for it) */
export const BINARY_EXTENSION = 'dranspose:binary';
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
   * with a new version, so a poll need not read and parse it again (nor hash a binary one).
   */
  private readonly parameterValues = new Map<string, { version: string; dtype: ParameterDescription['dtype']; value: TangoValue }>();
  private readonly fixed: AttributeSpec[];
  private readonly commandSpecs: CommandSpec[];
  private readonly rate: EventRate;
  private readonly results?: LiveResults;
  /** per attribute (lower-case name): the value's tag, when it last changed, its last values */
  private readonly tracked = new Map<string, { etag: string; changedAt: number; history: AttributeReading[] }>();
  private readonly executions = new Map<string, (CommandRecord | TangoFailureRecord)[]>();
  private readonly infoOverrides = new Map<string, InfoOverrides>();

  constructor(readonly controller: Controller, options: PipelineDeviceOptions) {
    this.name = options.device;
    this.health = new PipelineHealth(controller, options);
    this.rate = new EventRate(controller);
    this.results = options.results;
    this.fixed = this.fixedAttributes();
    this.commandSpecs = this.commands();
  }

  close(): void {
    this.health.close();
    this.rate.close();
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
      { name: 'State', type: 'DevState', format: 'SCALAR', description: 'ON idle, RUNNING during a scan, INIT while components start, ALARM after a scan that ended with frames missing or bad, FAULT when a component is missing or failed', read: (v) => v.assessment.state },
      { name: 'Status', type: 'DevString', format: 'SCALAR', description: 'problems, one line per component, and the event counts', read: (v) => statusText(c, v) },
      { name: 'completedEvents', type: 'DevLong64', format: 'SCALAR', description: 'events of the current scan that passed the whole pipeline', read: (v) => v.progress.completed_events },
      { name: 'totalEvents', type: 'DevLong64', format: 'SCALAR', description: 'events of the current scan, the start and end events included', read: (v) => v.progress.total_events },
      { name: 'streams', type: 'DevString', format: 'SPECTRUM', description: 'streams served by the live ingesters', read: () => c.availableStreams() },
      { name: 'workers', type: 'DevString', format: 'SPECTRUM', description: 'names of the live workers', read: () => c.components.workers.map((w) => w.name) },
      {
        name: 'workerLoad', type: 'DevDouble', format: 'SPECTRUM', display: '%4.2f', description: 'busy fraction of each worker over the scan, in the order of workers',
        read: (v) => this.loads(v),
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
      {
        name: 'meanLoad', type: 'DevDouble', format: 'SCALAR', display: '%4.2f', min: 0, max: 1,
        description: 'mean busy fraction of the workers over the scan', read: (v) => mean(this.loads(v)),
      },
      {
        name: 'maxLoad', type: 'DevDouble', format: 'SCALAR', display: '%4.2f', min: 0, max: 1,
        description: 'busy fraction of the busiest worker over the scan (near 1: add workers)', read: (v) => Math.max(0, ...this.loads(v)),
      },
      {
        name: 'eventRate', type: 'DevDouble', format: 'SCALAR', display: '%8.1f', unit: 'events/s',
        description: `events completed per second over the last ${EventRate.WINDOW_S} s`, read: () => this.rate.perSecond(),
      },
      { name: 'lostEvents', type: 'DevLong64', format: 'SCALAR', description: 'events of the scan lost with a component', read: (v) => v.progress.lost_events },
      { name: 'failedEvents', type: 'DevLong64', format: 'SCALAR', description: 'events of the scan whose processing failed', read: (v) => v.progress.failed_events },
      { name: 'badFrames', type: 'DevLong64', format: 'SCALAR', description: 'upstream frames of the scan that could not be used', read: (v) => v.progress.bad_frames },
      { name: 'missingFrames', type: 'DevLong64', format: 'SCALAR', description: 'frames the trigger map expected that never came (a stream that ended early)', read: (v) => v.progress.missing_frames },
    ];
  }

  /** each live worker's busy fraction over the scan */
  private loads(view: View): number[] {
    return this.controller.components.workers.map((w) => loadRatio(view.load[w.name]?.intervals.scan));
  }

  private resultAttributes(): AttributeSpec[] {
    const results = this.results;
    if (!results) return [];
    return results.attributes().map((r) => ({
      name: r.name, type: r.type, format: r.format, description: r.description, label: r.label, unit: r.unit,
      maxX: r.format === 'SCALAR' ? 1 : r.format === 'SPECTRUM' ? RESULT_SPECTRUM_LENGTH : RESULT_IMAGE_SIDE,
      maxY: r.format === 'IMAGE' ? RESULT_IMAGE_SIDE : 0,
      read: async () => {
        const reading = await results.read(r.name);
        return 'value' in reading ? reading.value : new InvalidValue(reading.invalid);
      },
    }));
  }

  private parameterAttribute(d: ParameterDescription): AttributeSpec {
    const c = this.controller;
    const origin = `${this.name}/${d.name}`;
    const binary = d.dtype === 'binary';
    return {
      name: d.name, type: PARAMETER_TYPES[d.dtype], format: 'SCALAR', binary,
      description: `${d.description ?? `parameter ${d.name}`}${binary ? ' (binary: write the bytes, e.g. a file the client reads; reads as their size and SHA-256)' : ''}`,
      read: async () => {
        const version = c.parameterVersion(d.name);
        const cached = this.parameterValues.get(d.name);
        if (cached && cached.version === version && cached.dtype === d.dtype) return cached.value;
        // never set: the description's default, which may change with the components, so not kept
        if (version === undefined) return binary ? bytesSummary(defaultBytes(d)) : parseStored(d, defaultBytes(d), origin);
        // getParameter reads the version taken above (it looks it up before its first await)
        const stored = (await c.getParameter(d.name)) ?? defaultBytes(d);
        return this.remember(d, version, binary ? bytesSummary(stored) : parseStored(d, stored, origin));
      },
      write: async (value) => {
        try {
          await c.setParameter(d.name, Buffer.isBuffer(value) ? value : parameterBytes(d.dtype, value));
        } catch (error) {
          if (error instanceof RequestError) throw new TangoError('DRANSPOSE_ParameterRejected', error.message, origin);
          throw error;
        }
      },
    };
  }

  /** keeps a value read or written under its version; returns it */
  private remember(d: ParameterDescription, version: string | undefined, value: TangoValue): TangoValue {
    if (version !== undefined) this.parameterValues.set(d.name, { version, dtype: d.dtype, value });
    return value;
  }

  /** fixed attributes first, then live results, then parameters; a name taken already (or a REST path word) is left out */
  private attributeSpecs(): AttributeSpec[] {
    const taken = new Set(RESERVED);
    const specs: AttributeSpec[] = [];
    for (const spec of [...this.fixed, ...this.resultAttributes(), ...this.controller.descriptions().map((d) => this.parameterAttribute(d))]) {
      if (taken.has(spec.name.toLowerCase())) continue;
      taken.add(spec.name.toLowerCase());
      specs.push(spec);
    }
    return specs;
  }

  private spec(name: string, specs = this.attributeSpecs()): AttributeSpec {
    const found = specs.find((a) => a.name.toLowerCase() === name.toLowerCase());
    if (!found) throw new TangoError('API_AttrNotFound', `${name} is not an attribute of ${this.name}`, this.name);
    return found;
  }

  attributeNames(): string[] {
    return this.attributeSpecs().map((a) => a.name);
  }

  attributeInfo(name: string): AttributeInfo {
    const a = this.spec(name);
    const limit = (n: number | undefined) => (n === undefined ? NOT_SPECIFIED : String(n));
    const own = this.infoOverrides.get(a.name.toLowerCase()) ?? {};
    const minAlarm = own.min_alarm ?? NOT_SPECIFIED;
    const maxAlarm = own.max_alarm ?? NOT_SPECIFIED;
    return {
      name: a.name,
      writable: a.write ? 'READ_WRITE' : 'READ',
      data_format: a.format,
      data_type: a.type,
      max_dim_x: a.maxX ?? (a.format === 'SPECTRUM' ? SPECTRUM_LENGTH : 1),
      max_dim_y: a.maxY ?? 0,
      description: own.description ?? a.description,
      label: own.label ?? a.label ?? a.name,
      unit: own.unit ?? a.unit ?? '',
      standard_unit: own.standard_unit ?? 'No standard unit',
      display_unit: own.display_unit ?? 'No display unit',
      format: own.format ?? a.display ?? NOT_SPECIFIED,
      min_value: limit(a.min),
      max_value: limit(a.max),
      min_alarm: minAlarm,
      max_alarm: maxAlarm,
      writable_attr_name: a.write ? a.name : 'None',
      level: 'OPERATOR',
      extensions: a.binary ? [BINARY_EXTENSION] : [],
      alarms: { min_alarm: minAlarm, max_alarm: maxAlarm, min_warning: NOT_SPECIFIED, max_warning: NOT_SPECIFIED, delta_t: NOT_SPECIFIED, delta_val: NOT_SPECIFIED, extensions: [] },
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
  async read(names: string[]): Promise<(TrackedReading | TangoError)[]> {
    const view = this.view();
    const specs = this.attributeSpecs();
    return await Promise.all(names.map(async (name) => {
      try {
        const spec = this.spec(name, specs);
        const value = await spec.read(view);
        const reading: AttributeReading = value instanceof InvalidValue
          ? { name: spec.name, value: null, quality: 'ATTR_INVALID', timestamp: Date.now(), reason: value.reason }
          : { name: spec.name, value, quality: 'ATTR_VALID', timestamp: Date.now() };
        return this.track(reading);
      } catch (error) {
        if (error instanceof TangoError) return error;
        throw error;
      }
    }));
  }

  /** notes a reading: a new value gets a new tag and change time, and joins the history */
  private track(reading: AttributeReading): TrackedReading {
    const key = reading.name.toLowerCase();
    const etag = createHash('sha1').update(JSON.stringify([reading.value, reading.quality])).digest('hex').slice(0, 20);
    let entry = this.tracked.get(key);
    if (!entry || entry.etag !== etag) {
      const history = [...(entry?.history ?? []), reading].slice(-HISTORY_LENGTH);
      entry = { etag, changedAt: reading.timestamp, history };
      this.tracked.set(key, entry);
    }
    return { ...reading, etag, changedAt: entry.changedAt };
  }

  async readOne(name: string): Promise<TrackedReading> {
    const [reading] = await this.read([name]);
    if (reading instanceof TangoError) throw reading;
    return reading;
  }

  /** the attribute's last values, oldest first (read now, so that the current one is there) */
  async history(name: string): Promise<AttributeReading[]> {
    const reading = await this.readOne(name);
    return this.tracked.get(reading.name.toLowerCase())?.history ?? [];
  }

  /** writes then reads back, as PUT .../value does; a binary parameter takes bytes (a Buffer) only */
  async write(name: string, value: unknown): Promise<TrackedReading> {
    const spec = this.spec(name);
    if (!spec.write) throw new TangoError('API_AttrNotWritable', `attribute ${spec.name} is not writable`, `${this.name}/${spec.name}`);
    await spec.write(parseWriteValue(spec, value, `${this.name}/${spec.name}`));
    return await this.readOne(spec.name);
  }

  /** whether writes of this attribute take bytes (the REST router reads the body raw for it) */
  takesBytes(name: string): boolean {
    return this.spec(name).binary === true;
  }

  /**
   * PUT .../info: the label, description, units, display format and alarm limits may change (kept
   * by the controller until it restarts); any other field must keep its value.
   */
  setAttributeInfo(name: string, update: unknown): AttributeInfo {
    const spec = this.spec(name);
    const origin = `${this.name}/${spec.name}`;
    if (update === null || typeof update !== 'object' || Array.isArray(update)) {
      throw new TangoError('API_IncompatibleArgumentType', 'the attribute info must be a JSON object', origin);
    }
    const current = this.attributeInfo(spec.name) as unknown as Record<string, unknown>;
    const changes: InfoOverrides = {};
    const given = { ...(update as Record<string, unknown>) };
    // alarm limits come at the top and under `alarms`: whichever differs from the current value
    const alarms = given.alarms;
    for (const key of ['min_alarm', 'max_alarm'] as const) {
      const nested = alarms !== null && typeof alarms === 'object' ? (alarms as Record<string, unknown>)[key] : undefined;
      if (nested !== undefined && (given[key] === undefined || given[key] === current[key])) given[key] = nested;
    }
    for (const [key, value] of Object.entries(given)) {
      if ((WRITABLE_INFO as readonly string[]).includes(key)) {
        if (typeof value !== 'string') throw new TangoError('API_IncompatibleArgumentType', `${key} must be a string, got ${JSON.stringify(value)?.slice(0, 80)}`, origin);
        if ((key === 'min_alarm' || key === 'max_alarm') && value !== NOT_SPECIFIED && !Number.isFinite(Number(value))) {
          throw new TangoError('API_IncompatibleArgumentType', `${key} must be a number or "${NOT_SPECIFIED}", got ${JSON.stringify(value).slice(0, 80)}`, origin);
        }
        changes[key as keyof InfoOverrides] = value;
      } else if (key in current && key !== 'alarms' && JSON.stringify(value) !== JSON.stringify(current[key])) {
        throw new TangoError('API_AttrNotAllowed', `${key} of ${spec.name} cannot be changed (only ${WRITABLE_INFO.join(', ')} can)`, origin);
      }
    }
    this.infoOverrides.set(spec.name.toLowerCase(), { ...this.infoOverrides.get(spec.name.toLowerCase()), ...changes });
    return this.attributeInfo(spec.name);
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
    if (!found) throw new TangoError('API_CommandNotFound', `${name} is not a command of ${this.name}`, this.name);
    return found;
  }

  /** the command's last executions, oldest first: outputs, or the failures */
  commandHistory(name: string): (CommandRecord | TangoFailureRecord)[] {
    const command = this.command(name);
    return this.executions.get(command.name) ?? [];
  }

  async execute(name: string, input: unknown): Promise<{ name: string; output: TangoValue | undefined }> {
    const command = this.command(name);
    const origin = `${this.name}/${command.name}`;
    const record = (entry: CommandRecord | TangoFailureRecord) => {
      this.executions.set(command.name, [...(this.executions.get(command.name) ?? []), entry].slice(-HISTORY_LENGTH));
    };
    try {
      const takesNothing = command.info.in_type === 'DevVoid';
      if (takesNothing ? input !== undefined && input !== null : typeof input !== 'string') {
        throw new TangoError('API_IncompatibleCmdArgumentType', `${command.name} takes ${takesNothing ? 'no input' : `a ${command.info.in_type}`}, got ${describeInput(input)}`, origin);
      }
      const output = await command.execute(input, this.view());
      record({ name: command.name, ...(output === undefined ? {} : { output }), timestamp: Date.now() });
      return { name: command.name, output };
    } catch (error) {
      if (error instanceof TangoError) record(error.toFailure());
      throw error;
    }
  }

  private async setSequence(input: unknown): Promise<string> {
    const origin = `${this.name}/SetSequence`;
    let body: unknown;
    try {
      checkJsonDepth(Buffer.from(input as string));
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

/** a written value (query text, JSON or the raw body) as the attribute's type, within its limits */
function parseWriteValue(spec: AttributeSpec, raw: unknown, origin: string): string | number | boolean | Buffer {
  if (spec.binary) {
    if (Buffer.isBuffer(raw)) return raw;
    // never a path: the controller opens no file a client names
    throw new TangoError('API_IncompatibleAttrDataType', `${spec.name} is a binary parameter: send its bytes as the request body `
      + '(Content-Type: application/octet-stream), e.g. the content of a file you read; a path or a ?v= text is not taken', origin);
  }
  if (Buffer.isBuffer(raw)) raw = raw.toString('utf8');
  if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') {
    throw new TangoError('API_IncompatibleAttrDataType', `${spec.name} takes a scalar ${spec.type}, got ${describeInput(raw)}`, origin);
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

/** what a binary value reads as: its size and the start of its SHA-256 */
export function bytesSummary(bytes: Buffer): string {
  return bytes.length ? `${bytes.length} bytes, sha256 ${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}` : '';
}

function mean(values: number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0;
}

function describeInput(input: unknown): string {
  if (input === undefined) return 'nothing';
  try {
    return JSON.stringify(input).slice(0, 80);
  } catch {
    return `a ${typeof input}`;
  }
}

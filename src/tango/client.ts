/**
 * A client of one device over the Tango REST API v1.1 (reference/tango.md §1): reads, bulk reads,
 * write-then-read (bytes for a binary parameter), commands and state. A refusal in the spec's error
 * shape becomes a TangoRestError carrying the error list; anything else (no answer, a body of
 * another shape) a plain Error. With a token (or DRANSPOSE_TOKEN) every request carries it.
 */
import axios, { type AxiosInstance, type Method } from 'axios';
import { z } from 'zod';
import { describeIssue } from '../core/validation.js';

// the spec's examples use `description`, one v1.1 example `desc`
const errorItemSchema = z.object({
  reason: z.string().default(''),
  description: z.string().optional(),
  desc: z.string().optional(),
  severity: z.string().default('ERR'),
  origin: z.string().default(''),
}).transform(({ desc, description, ...rest }) => ({ ...rest, description: description ?? desc ?? '' }));

const failureSchema = z.object({
  name: z.string().optional(),
  errors: z.array(errorItemSchema).min(1),
  quality: z.literal('FAILURE'),
  timestamp: z.number().optional(),
});

const valueSchema = z.object({
  name: z.string(),
  value: z.unknown(),
  quality: z.string(),
  timestamp: z.number(),
  host: z.string().optional(),
  device: z.string().optional(),
});

const stateSchema = z.object({ state: z.string(), status: z.string() });
const commandResultSchema = z.object({ name: z.string(), output: z.unknown().optional() }).loose();
/** an element of the attribute and command lists */
const namedInfoSchema = z.object({ name: z.string(), info: z.record(z.string(), z.unknown()) }).loose();

export type TangoRestErrorItem = z.output<typeof errorItemSchema>;
export type AttributeValue = z.output<typeof valueSchema>;
/** a failed element of a bulk read: the attribute's name and why */
export type AttributeFailure = z.output<typeof failureSchema>;
export type CommandResult = z.output<typeof commandResultSchema>;
/** an attribute or command as the lists name it */
export type NamedInfo = z.output<typeof namedInfoSchema>;

export class TangoRestError extends Error {
  constructor(readonly status: number, readonly errors: TangoRestErrorItem[]) {
    super(errors.map((e) => `${e.reason}: ${e.description}`).join('; '));
  }

  get reason(): string { return this.errors[0].reason; }
}

export function isFailure(element: AttributeValue | AttributeFailure): element is AttributeFailure {
  return 'errors' in element;
}

export interface TangoRestClientOptions {
  timeoutMs?: number;
  /** sent as `Authorization: Bearer`; default DRANSPOSE_TOKEN */
  token?: string;
}

export class TangoRestClient {
  private readonly http: AxiosInstance;
  /** `.../tango/rest/v11/hosts/{host};port={port}/devices/{device}` */
  readonly deviceUrl: string;

  constructor(baseUrl: string, host: string, port: number, readonly device: string, options: TangoRestClientOptions = {}) {
    this.deviceUrl = `${baseUrl.replace(/\/+$/, '')}/tango/rest/v11/hosts/${host};port=${port}/devices/${device}`;
    // every status is answered here: 4xx bodies carry the Tango errors
    const token = options.token ?? process.env.DRANSPOSE_TOKEN;
    this.http = axios.create({
      baseURL: this.deviceUrl, timeout: options.timeoutMs ?? 30_000, validateStatus: () => true,
      headers: token ? { Authorization: `Bearer ${token}` } : {},
    });
  }

  private async call<T>(schema: z.ZodType<T>, method: Method, path: string, request: { params?: unknown; data?: unknown; headers?: Record<string, string> } = {}): Promise<T> {
    const what = `${method} ${this.deviceUrl}${path}`;
    let response;
    try {
      response = await this.http.request({ method, url: path, ...request, paramsSerializer: { indexes: null } });
    } catch (error) {
      throw new Error(`${what}: ${(error as Error).message}`);
    }
    if (response.status >= 400) {
      const failure = failureSchema.safeParse(response.data);
      if (failure.success) throw new TangoRestError(response.status, failure.data.errors);
      throw new Error(`${what}: HTTP ${response.status} ${JSON.stringify(response.data).slice(0, 200)}`);
    }
    const parsed = schema.safeParse(response.data);
    if (!parsed.success) throw new Error(`${what}: unexpected answer ${JSON.stringify(response.data).slice(0, 200)}: ${describeIssue(parsed.error.issues[0])}`);
    return parsed.data;
  }

  async read(attribute: string): Promise<AttributeValue> {
    return await this.call(valueSchema, 'GET', `/attributes/${attribute}/value`);
  }

  /** one bulk read; an attribute that failed is an AttributeFailure in its place */
  async readMany(attributes: string[]): Promise<(AttributeValue | AttributeFailure)[]> {
    return await this.call(z.array(z.union([failureSchema, valueSchema])), 'GET', '/attributes/value', { params: { attr: attributes } });
  }

  /** writes, then returns the value read back */
  async write(attribute: string, value: string | number | boolean): Promise<AttributeValue> {
    return await this.call(valueSchema, 'PUT', `/attributes/${attribute}/value`, { params: { v: String(value) } });
  }

  /** writes the bytes of a binary parameter (e.g. a file this client read), then returns the value read back */
  async writeBytes(attribute: string, bytes: Buffer): Promise<AttributeValue> {
    return await this.call(valueSchema, 'PUT', `/attributes/${attribute}/value`, { data: bytes, headers: { 'Content-Type': 'application/octet-stream' } });
  }

  /** the attribute's last values, oldest first */
  async history(attribute: string): Promise<AttributeValue[]> {
    return await this.call(z.array(valueSchema), 'GET', `/attributes/${attribute}/history`);
  }

  async command(name: string, input?: unknown): Promise<CommandResult> {
    return await this.call(commandResultSchema, 'PUT', `/commands/${name}`, { data: input === undefined ? {} : { input } });
  }

  async state(): Promise<{ state: string; status: string }> {
    return await this.call(stateSchema, 'GET', '/state');
  }

  /** AttributeInfoEx: writable, data_format, data_type, limits, ... */
  async info(attribute: string): Promise<Record<string, unknown>> {
    return await this.call(z.record(z.string(), z.unknown()), 'GET', `/attributes/${attribute}/info`);
  }

  async attributes(): Promise<NamedInfo[]> {
    return await this.call(z.array(namedInfoSchema), 'GET', '/attributes');
  }

  async commands(): Promise<NamedInfo[]> {
    return await this.call(z.array(namedInfoSchema), 'GET', '/commands');
  }
}

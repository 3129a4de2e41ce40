/**
 * Live results as Tango attributes (`tango.results` of the configuration): chosen values of the
 * reducer's `publish`, read from its result API, each a scalar, spectrum or image by its shape.
 *
 * A result's format and type come from its declaration, or else from the first value read; until
 * then it is not an attribute (a Tango attribute keeps its type). A path that selects nothing, a
 * reducer that cannot be reached, or a value of another shape than the attribute's reads with
 * quality INVALID. Values are fetched at most every `refreshMs`, all results in one go, so that
 * every poll of the bridge and every REST client share the reducer's answers.
 */
import { JSONPath } from 'jsonpath-plus';
import type { Controller } from '../controller.js';

export type ResultFormat = 'SCALAR' | 'SPECTRUM' | 'IMAGE';
export type ResultType = 'DevDouble' | 'DevLong64' | 'DevBoolean' | 'DevString';
export type ImageValue = { data: (number | boolean | string)[]; width: number; height: number };
export type ResultValue = number | boolean | string | (number | boolean | string)[] | ImageValue;

/** one entry of `tango.results`: a JSONPath, or the path with what the attribute is */
export type ResultDeclaration = string | {
  path: string;
  format?: 'scalar' | 'spectrum' | 'image';
  type?: 'float' | 'int' | 'bool' | 'str';
  unit?: string;
  label?: string;
  description?: string;
};

export interface ResultAttribute {
  name: string;
  path: string;
  format: ResultFormat;
  type: ResultType;
  unit?: string;
  label?: string;
  description: string;
}

/** the reading of one result: a value, or the reason it is INVALID */
export type ResultReading = { value: ResultValue } | { invalid: string };

const FORMATS = { scalar: 'SCALAR', spectrum: 'SPECTRUM', image: 'IMAGE' } as const;
const TYPES = { float: 'DevDouble', int: 'DevLong64', bool: 'DevBoolean', str: 'DevString' } as const;
export const RESULT_REFRESH_MS = 200;
const FETCH_TIMEOUT_MS = 2000;

type Element = number | boolean | string | null;

function elementType(value: Element): ResultType | undefined {
  if (typeof value === 'number' || value === null) return 'DevDouble'; // JSON writes NaN as null
  if (typeof value === 'boolean') return 'DevBoolean';
  if (typeof value === 'string') return 'DevString';
  return undefined;
}

/** the format and element type of a JSON value, or undefined for what no attribute can hold */
export function shapeOf(value: unknown): { format: ResultFormat; type: ResultType } | undefined {
  if (!Array.isArray(value)) {
    const type = elementType(value as Element);
    return type && value !== null ? { format: 'SCALAR', type } : undefined;
  }
  if (value.length > 0 && value.every(Array.isArray)) {
    const rows = value as unknown[][];
    const width = rows[0]!.length;
    if (!rows.every((row) => row.length === width)) return undefined;
    const type = commonType(rows.flat());
    return type && { format: 'IMAGE', type };
  }
  const type = value.length ? commonType(value) : 'DevDouble';
  return type && { format: 'SPECTRUM', type };
}

function commonType(items: unknown[]): ResultType | undefined {
  const types = new Set(items.map((item) => (Array.isArray(item) ? undefined : elementType(item as Element))));
  return types.size === 1 ? [...types][0] : undefined;
}

/** the value as the attribute serves it; a reason when it has another shape or type */
function conform(value: unknown, attribute: ResultAttribute): ResultReading {
  const shape = shapeOf(value);
  if (!shape || shape.format !== attribute.format) {
    return { invalid: `${attribute.path} is ${shape ? shape.format.toLowerCase() : 'not a scalar, spectrum or image'}, the attribute ${attribute.format.toLowerCase()}` };
  }
  const numeric = attribute.type === 'DevDouble' || attribute.type === 'DevLong64';
  if (shape.type !== attribute.type && !(numeric && shape.type === 'DevDouble')) {
    return { invalid: `${attribute.path} holds ${shape.type} values, the attribute ${attribute.type}` };
  }
  const element = (item: unknown) => {
    if (item === null) return Number.NaN;
    return attribute.type === 'DevLong64' ? Math.trunc(item as number) : item as number | boolean | string;
  };
  if (attribute.format === 'IMAGE') {
    const rows = value as unknown[][];
    return { value: { data: rows.flat().map(element), width: rows[0]!.length, height: rows.length } };
  }
  if (attribute.format === 'SPECTRUM') return { value: (value as unknown[]).map(element) };
  if (attribute.type === 'DevLong64' && !Number.isFinite(value)) return { invalid: `${attribute.path} is not a finite number` };
  return { value: element(value) };
}

/** `$.a.b[-1]` → the path `$.a.b` and the numpy slice `-1` the reducer applies (its paths take no negative index) */
export function reducerQuery(path: string): { path: string; slice?: string } {
  const rooted = path.startsWith('$') ? path : `$.${path}`;
  const steps = JSONPath.toPathArray(rooted);
  let cut = steps.length;
  while (cut > 1 && /^-?\d+$/.test(steps[cut - 1]!)) cut -= 1;
  if (cut === steps.length || !steps.slice(cut).some((step) => step.startsWith('-'))) return { path: rooted };
  const prefix = JSONPath.toPathString(steps.slice(0, cut));
  return { path: prefix, slice: steps.slice(cut).join(',') };
}

export class LiveResults {
  /** formats and types learnt from the first values of undeclared results */
  private readonly learnt = new Map<string, { format: ResultFormat; type: ResultType }>();
  private readings = new Map<string, ResultReading>();
  private fetchedAt = 0;
  private fetching?: Promise<void>;

  constructor(private readonly controller: Controller, private readonly declarations: Record<string, ResultDeclaration>,
    private readonly refreshMs = RESULT_REFRESH_MS) {}

  /**
   * The results that are attributes now: declared ones, and undeclared ones once a value showed
   * their shape (asking starts a read of them, so that the next list has them).
   */
  attributes(): ResultAttribute[] {
    if (Object.keys(this.declarations).length > this.learnt.size) void this.refresh();
    return this.declared();
  }

  private declared(): ResultAttribute[] {
    const attributes: ResultAttribute[] = [];
    for (const [name, declaration] of Object.entries(this.declarations)) {
      const d = typeof declaration === 'string' ? { path: declaration } : declaration;
      const learnt = this.learnt.get(name);
      const format = d.format ? FORMATS[d.format] : learnt?.format;
      const type = d.type ? TYPES[d.type] : learnt?.type ?? (d.format ? 'DevDouble' : undefined);
      if (!format || !type) continue;
      attributes.push({
        name, path: d.path, format, type, unit: d.unit, label: d.label,
        description: d.description ?? `live result ${d.path} of the reducer's publish`,
      });
    }
    return attributes;
  }

  /** reads every result, at most once per refresh period */
  async refresh(): Promise<void> {
    if (Date.now() - this.fetchedAt < this.refreshMs) return;
    this.fetching ??= this.fetchAll().finally(() => {
      this.fetchedAt = Date.now();
      this.fetching = undefined;
    });
    await this.fetching;
  }

  async read(name: string): Promise<ResultReading> {
    await this.refresh();
    return this.readings.get(name) ?? { invalid: `${name} has not been read yet` };
  }

  private reducerUrl(): string | undefined {
    const reducer = this.controller.components.reducer;
    const port = Number(reducer?.http_port);
    if (!reducer || !port) return undefined;
    let host = /^tcp:\/\/(.+):\d+$/.exec(String(reducer.url ?? ''))?.[1] ?? '127.0.0.1';
    if (host === '*' || host === '0.0.0.0') host = '127.0.0.1';
    if (host === '::' || host === '[::]') host = '[::1]';
    return `http://${host}:${port}`;
  }

  private async fetchAll(): Promise<void> {
    const base = this.reducerUrl();
    const readings = new Map<string, ResultReading>();
    await Promise.all(Object.entries(this.declarations).map(async ([name, declaration]) => {
      const path = typeof declaration === 'string' ? declaration : declaration.path;
      readings.set(name, base ? await this.fetchOne(base, name, path) : { invalid: 'no reducer is registered' });
    }));
    this.readings = readings;
  }

  private async fetchOne(base: string, name: string, path: string): Promise<ResultReading> {
    const query = reducerQuery(path);
    // single: a definite path answers its value alone (404 when it selects nothing), a wildcard one the list of matches
    const url = `${base}/api/v1/result/${encodeURIComponent(query.path)}?single=true${query.slice ? `&slice=${encodeURIComponent(query.slice)}` : ''}`;
    let value: unknown;
    try {
      const response = await fetch(url, { headers: { Accept: 'application/json' }, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
      const text = await response.text();
      if (!response.ok) return { invalid: `${path}: ${response.status === 404 ? 'selects nothing' : `the reducer answered ${response.status}`}: ${text.slice(0, 200)}` };
      value = JSON.parse(text);
    } catch (error) {
      return { invalid: `${path}: the reducer cannot be read: ${(error as Error).message}` };
    }
    let attribute = this.declared().find((a) => a.name === name);
    if (!attribute) {
      const shape = shapeOf(value);
      if (!shape) return { invalid: `${path} is not a scalar, spectrum or image` };
      this.learnt.set(name, shape);
      attribute = this.declared().find((a) => a.name === name)!;
    }
    return conform(value, attribute);
  }
}

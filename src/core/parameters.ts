/** Parameter values: bytes on the wire, typed values for user code, a version hash over all of them. */
import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { ParameterDescription, ParameterValue, Parameters, WorkParameter } from './types.js';
import { MAX_PARAMETER_NUMBER_TEXT } from './defaults.js';

export const parameterDescriptionSchema = z.object({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'parameter names are identifiers'),
  dtype: z.enum(['str', 'int', 'float', 'bool', 'binary']),
  description: z.string().nullish(),
  default: z.union([z.string(), z.number(), z.boolean(), z.null()]).optional(),
});

/** Built into every pipeline: ingesters dump to `<prefix><ingester>-<scan>.cbors` when set. */
export const DUMP_PREFIX: ParameterDescription = {
  name: 'dump_prefix', dtype: 'str', description: 'Prefix to dump ingester values', default: '',
};

export class ParameterValueError extends Error {}

const INT = /^\s*[+-]?\d(_?\d)*\s*$/;
const FLOAT = /^\s*[+-]?((\d(_?\d)*)?\.?\d(_?\d)*([eE][+-]?\d+)?|\d(_?\d)*\.|inf(inity)?|nan)\s*$/i;

/** Parses the bytes of a parameter by its type (the Python int/float/bool spellings are accepted). */
export function parseParameter(dtype: ParameterDescription['dtype'], data: Buffer): ParameterValue {
  const text = () => data.toString('utf8');
  if (dtype === 'binary') return data;
  if (dtype === 'str') return text();
  // a number's text is short: parsing megabytes of digits (BigInt is quadratic) would stall the process
  if (data.length > MAX_PARAMETER_NUMBER_TEXT) {
    throw new ParameterValueError(`${dtype} values are at most ${MAX_PARAMETER_NUMBER_TEXT} bytes long, got ${data.length} bytes`);
  }
  switch (dtype) {
    case 'int': {
      if (!INT.test(text())) throw new ParameterValueError(`not an integer: ${JSON.stringify(text().slice(0, 40))}`);
      const value = BigInt(text().trim().replaceAll('_', ''));
      if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
        throw new ParameterValueError(`integer out of range: ${text().trim()}`);
      }
      return Number(value);
    }
    case 'float': {
      const t = text().trim().toLowerCase().replaceAll('_', '');
      if (!FLOAT.test(t)) throw new ParameterValueError(`not a number: ${JSON.stringify(text().slice(0, 40))}`);
      if (t.includes('nan')) return NaN;
      if (t.includes('inf')) return t.startsWith('-') ? -Infinity : Infinity;
      return Number(t);
    }
    case 'bool': {
      const t = text().trim();
      if (['True', 'true', '1'].includes(t)) return true;
      if (['False', 'false', '0'].includes(t)) return false;
      throw new ParameterValueError(`not a boolean (True/False): ${JSON.stringify(t.slice(0, 40))}`);
    }
  }
}

/** Python's repr of a float, so values written by us read the same in the original's tools. */
function pythonFloat(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (Number.isInteger(value) && Math.abs(value) < 1e16) return value.toFixed(1);
  return String(value).replace(/e([+-])(\d)$/, 'e$10$2');
}

/** The bytes of a value as the original writes them (`str(v)` in Python). */
export function parameterBytes(dtype: ParameterDescription['dtype'], value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value === null || value === undefined) return Buffer.alloc(0);
  if (dtype === 'bool') return Buffer.from(value ? 'True' : 'False');
  if (dtype === 'float' && typeof value === 'number') return Buffer.from(pythonFloat(value));
  return Buffer.from(String(value));
}

export function defaultBytes(description: ParameterDescription): Buffer {
  const fallback = { str: '', binary: '', int: 0, float: 0, bool: false }[description.dtype];
  return parameterBytes(description.dtype, description.default ?? fallback);
}

export function newVersion(): string {
  return randomUUID();
}

/** SHA-256 over the 16 raw bytes of every version id, in sorted name order (as the original). */
export function parametersHash(versions: Record<string, string>): string {
  const hash = createHash('sha256');
  for (const name of Object.keys(versions).sort()) hash.update(Buffer.from(versions[name].replaceAll('-', ''), 'hex'));
  return hash.digest('hex');
}

export function workParameter(name: string, data: Buffer, version: string,
  description: ParameterDescription | undefined): WorkParameter {
  let value: ParameterValue = null;
  if (description) {
    try { value = parseParameter(description.dtype, data); } catch { value = null; }
  }
  return { name, data, value, version };
}

/** Collects the descriptions of several classes; later ones win on duplicate names. */
export function mergeDescriptions(...lists: (ParameterDescription[] | undefined)[]): Map<string, ParameterDescription> {
  const merged = new Map<string, ParameterDescription>();
  for (const list of lists) for (const d of list ?? []) merged.set(d.name, parameterDescriptionSchema.parse(d) as ParameterDescription);
  return merged;
}

export type { Parameters };

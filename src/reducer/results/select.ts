/**
 * JSONPath selection from the reducer's `publish`. Only plain objects and lists are walked into:
 * NDArrays, typed arrays, Buffers and strings are leaves, whole values that a path can end at.
 */
import { JSONPath } from 'jsonpath-plus';
import { isRecord } from '../../core/encodable.js';
import { ResultError } from './result-error.js';
import type { PublishView } from './remote-publish.js';

/** A definite path names one value; any other path gives the list of all its matches. */
export type Selection = { definite: true; found: true; value: unknown } | { definite: true; found: false; reason: string }
  | { definite: false; matches: unknown[] };

/**
 * Selects `path` from a publish read through `view`: empty or `$` is all of it, and a path without
 * the leading `$` is taken relative to it (`a.b` means `$.a.b`). Only the part named by the path's
 * leading plain steps is read (a Python reducer sends just that); a 400 when jsonpath-plus refuses
 * the path (script expressions are never evaluated).
 */
export async function selectResult(view: PublishView, path: string): Promise<Selection> {
  const expression = rooted(path);
  // jsonpath-plus marks its own subexpressions `#<n>` in the path: a key with one would become another step or undefined
  if (/#\d/u.test(expression)) throw new ResultError(400, `bad JSONPath ${JSON.stringify(expression)}: '#' followed by a digit cannot be selected`);
  const steps = JSONPath.toPathArray(expression).slice(1);
  const plain = steps.findIndex((step) => !isPlainStep(step));
  const prefix = steps.slice(0, plain < 0 ? steps.length : plain).map((step) => (step.startsWith('`') ? step.slice(1) : step));
  const read = await view.read(prefix, false);
  if (plain < 0) return read.found ? { definite: true, found: true, value: read.value } : { definite: true, found: false, reason: read.reason };
  if (!read.found) return { definite: false, matches: [] };
  // the rest of the path runs on the part read, placed where it lives in publish
  const document = prefix.reduceRight<unknown>((inner, key) => ({ [key]: inner }), read.value);
  return { definite: false, matches: selectAll(document, expression) };
}

function rooted(path: string): string {
  if (path === '' || path === '$' || path.startsWith('$.') || path.startsWith('$[')) return path || '$';
  return path.startsWith('[') || path.startsWith('..') ? `$${path}` : `$.${path}`;
}

/** jsonpath-plus's own test for a slice step */
const SLICE_STEP = /^(-?\d*):(-?\d*):?(\d*)$/u;
const OPERATOR_STEPS = new Set(['$', '*', '..', '^', '~']);

/** A step that names one key or index, not a wildcard, slice, union, filter, type or parent operator. */
function isPlainStep(step: string): boolean {
  if (step.startsWith('`')) return true; // backquote escapes a key that looks like an operator
  return !OPERATOR_STEPS.has(step) && !step.startsWith('?(') && !step.startsWith('(') && !step.startsWith('@')
    && !step.includes(',') && !SLICE_STEP.test(step);
}

function selectAll(publish: unknown, expression: string): unknown[] {
  const originals = new Map<unknown, unknown>();
  let matches: unknown[];
  try {
    // jsonpath-plus answers undefined instead of [] for a falsy document (0, '', false)
    matches = JSONPath({ path: expression, json: opaqueMirror(publish, originals) as object, eval: false, wrap: true }) ?? [];
  } catch (error) {
    throw new ResultError(400, `bad JSONPath ${JSON.stringify(expression)}: ${error instanceof Error ? error.message : error}`);
  }
  return matches.map((match) => (originals.has(match) ? originals.get(match) : match));
}

/**
 * jsonpath-plus walks into anything with keys (every element of a typed array, every character of
 * a string), so it runs on a copy of the containers in which such leaves are keyless stand-ins;
 * `originals` maps every copy and stand-in back to the value it stands for.
 */
function opaqueMirror(value: unknown, originals: Map<unknown, unknown>): unknown {
  let mirror: unknown;
  if (Array.isArray(value)) {
    mirror = value.map((item) => opaqueMirror(item, originals));
  } else if (isRecord(value)) {
    mirror = Object.fromEntries(Object.entries(value).map(([key, item]) => [key, opaqueMirror(item, originals)]));
  } else if ((typeof value === 'object' && value !== null) || typeof value === 'string') {
    mirror = Object.freeze(Object.create(null));
  } else {
    return value;
  }
  originals.set(mirror, value);
  return mirror;
}

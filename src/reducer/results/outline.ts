/**
 * The outline of `publish` (`GET /api/v1/outline`): every value's place, kind and shape, with
 * scalars inline and arrays described, not sent. The dashboard draws its tree from it and then
 * fetches only the leaves it shows, sliced. Bounded: big containers are summarised, not listed.
 */
import { classify, isRecord } from '../../core/encodable.js';

export interface OutlineNode {
  /** keys from the root (list indices as numbers) */
  keys: (string | number)[];
  /** a JSONPath the result API selects this value with; null when a key cannot be written as one */
  path: string | null;
  kind: 'none' | 'bool' | 'number' | 'bigint' | 'string' | 'bytes' | 'array' | 'list' | 'record';
  /** arrays: their shape; numeric lists: the shape numpy would give them (from the first items) */
  shape?: number[];
  /** arrays: their dtype; numeric lists: `number` */
  dtype?: string;
  /** scalars, strings cut to STRING_LIMIT characters */
  value?: number | boolean | string | null;
  /** containers: their number of items, and whether the outline leaves them out */
  items?: number;
  truncated?: boolean;
}

export interface Outline { nodes: OutlineNode[]; truncated: boolean }

const MAX_NODES = 2000;
/** a container with more items than this that is not a numeric list is summarised */
const MAX_CHILDREN = 200;
const STRING_LIMIT = 200;
/** how far into a list (holes, nulls) the first item is looked for */
const FIRST_ITEM_SEARCH = 1000;
/** characters jsonpath-plus cannot take inside a bracketed key, even escaped */
const UNWRITABLE_KEY = /['[\]^]/;

/** `$['`a']['`b'][0]`: every key backquoted, so that none is read as an operator (select.ts) */
function childPath(parent: string | null, key: string | number): string | null {
  if (parent === null) return null;
  if (typeof key === 'number') return `${parent}[${key}]`;
  return UNWRITABLE_KEY.test(key) ? null : `${parent}['\`${key}']`;
}

function firstItem(list: readonly unknown[]): unknown {
  const end = Math.min(list.length, FIRST_ITEM_SEARCH);
  for (let i = 0; i < end; i++) if (list[i] !== undefined && list[i] !== null) return list[i];
  return undefined;
}

/** the shape of a list of numbers, or of a list of equal numeric rows; undefined for anything else */
function numericListShape(list: readonly unknown[]): number[] | undefined {
  const first = firstItem(list);
  if (first === undefined || typeof first === 'number') return [list.length];
  if (Array.isArray(first) && typeof firstItem(first) === 'number') return [list.length, first.length];
  return undefined;
}

export function outlinePublish(publish: unknown): Outline {
  const nodes: OutlineNode[] = [];
  let truncated = false;
  const visit = (value: unknown, keys: (string | number)[], path: string | null): void => {
    if (nodes.length >= MAX_NODES) {
      truncated = true;
      return;
    }
    let item;
    try {
      item = classify(value);
    } catch {
      return;   // a value no encoder carries is not served either
    }
    const node: OutlineNode = { keys, path, kind: item.kind };
    nodes.push(node);
    switch (item.kind) {
      case 'none': node.value = null; return;
      case 'bool': case 'number': node.value = item.value; return;
      case 'bigint': node.value = Number(item.value); return;
      case 'string': node.value = item.value.length > STRING_LIMIT ? `${item.value.slice(0, STRING_LIMIT)}…` : item.value; return;
      case 'bytes': node.items = item.value.length; return;
      case 'array': node.shape = item.value.shape; node.dtype = item.value.dtype; return;
      case 'list': {
        node.items = item.value.length;
        const shape = numericListShape(item.value);
        if (shape) {
          node.shape = shape;
          node.dtype = 'number';
          return;
        }
        if (item.value.length > MAX_CHILDREN) { node.truncated = true; return; }
        item.value.forEach((child, i) => visit(child, [...keys, i], childPath(path, i)));
        return;
      }
      case 'record': {
        const entries = isRecord(item.value) ? Object.entries(item.value) : [];
        node.items = entries.length;
        if (entries.length > MAX_CHILDREN) { node.truncated = true; return; }
        for (const [key, child] of entries) visit(child, [...keys, key], childPath(path, key));
      }
    }
  };
  visit(publish, [], '$');
  return { nodes, truncated };
}

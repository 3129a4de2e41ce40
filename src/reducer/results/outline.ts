/**
 * The outline of `publish` (`GET /api/v1/outline`): every value's place, kind and shape, with
 * scalars inline and arrays described, not sent. The dashboard draws its tree from it and then
 * fetches only the leaves it shows, sliced. Bounded: big containers are summarised, not listed.
 */
import { z } from 'zod';
import { classify, isRecord } from '../../core/encodable.js';

export const outlineNodeSchema = z.object({
  keys: z.array(z.union([z.string(), z.int()])).meta({ description: 'keys from the root (list indices as numbers)' }),
  path: z.string().nullable().meta({ description: 'the JSONPath that selects this value in /api/v1/result/{jsonpath}; null when a key cannot be written in one' }),
  kind: z.enum(['none', 'bool', 'number', 'bigint', 'string', 'bytes', 'array', 'list', 'record']),
  shape: z.array(z.int()).optional().meta({ description: 'arrays: their shape; numeric lists: the shape numpy would give them' }),
  dtype: z.string().optional().meta({ description: 'arrays: their dtype; numeric lists: number' }),
  value: z.union([z.number(), z.boolean(), z.string(), z.null()]).optional().meta({ description: 'scalars (strings cut to 200 characters)' }),
  items: z.int().optional().meta({ description: 'containers and bytes: their length' }),
  truncated: z.boolean().optional().meta({ description: 'a container too big to list' }),
}).meta({ id: 'OutlineNode' });
export type OutlineNode = z.infer<typeof outlineNodeSchema>;

export const outlineSchema = z.object({
  nodes: z.array(outlineNodeSchema).meta({ description: 'depth first, the root first' }),
  truncated: z.boolean().meta({ description: 'publish has more values than the outline lists' }),
}).meta({ id: 'Outline' });
export type Outline = z.infer<typeof outlineSchema>;

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

/**
 * The HDF5 REST API of the original 0.2 (core.md §6.3, HSDS-like, for h5pyd, silx and h5web) over
 * `publish`: a plain object is a group, anything else a dataset; the key `<k>_attrs` (an object)
 * holds the attributes of its sibling `<k>` and is not a link; the root's attributes are `_attrs`.
 * Object ids are `g-h5dict-`/`d-h5dict-` and the uppercase hex of the UTF-8 absolute path.
 * Differences from the original: unknown ids are 404 (not 500); bool values are integers; empty
 * `select=` bounds default as in Python slices, and a bare index k selects k (not `:k`).
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { gzipSync } from 'node:zlib';
import { classify, isRecord } from '../../core/encodable.js';
import { type DType, type NDArray } from '../../core/ndarray.js';
import { encodeJson } from './json.js';
import { publishView, type PublishView } from './remote-publish.js';
import { ResultError } from './result-error.js';
import { parseSlice, sliceLeaves } from './slice.js';

const GROUP = 'g-h5dict-';
const DATASET = 'd-h5dict-';
export const ROOT_ID = `${GROUP}2F`;
const ATTRS = '_attrs';
/** the original compresses values above this many bytes for clients that accept gzip */
const GZIP_ABOVE = 1000;
const GZIP_LEVEL = 7;

type Collection = 'groups' | 'datasets';

export function objectId(collection: Collection, path: readonly string[]): string {
  const absolute = `/${path.join('/')}`;
  return (collection === 'groups' ? GROUP : DATASET) + Buffer.from(absolute, 'utf8').toString('hex').toUpperCase();
}

/** the path of an id, or undefined when it is not one of ours */
export function pathOfId(collection: Collection, id: string): string[] | undefined {
  const prefix = collection === 'groups' ? GROUP : DATASET;
  const hex = id.startsWith(prefix) ? id.slice(prefix.length) : '';
  if (!/^([0-9A-Fa-f]{2})+$/.test(hex)) return undefined;
  const absolute = Buffer.from(hex, 'hex').toString('utf8');
  if (!absolute.startsWith('/')) return undefined;
  return absolute.split('/').filter((step) => step !== '');
}

function stamps(): { created: number; lastModified: number } {
  const now = Date.now() / 1000;
  return { created: now, lastModified: now };
}

type Shape = { class: 'H5S_SCALAR' } | { class: 'H5S_SIMPLE'; dims: number[] };
type H5Type = Record<string, unknown>;

const STRING_TYPE: H5Type = { class: 'H5T_STRING', length: 'H5T_VARIABLE', charSet: 'H5T_CSET_UTF8', strPad: 'H5T_STR_NULLTERM' };
const INT64: H5Type = { class: 'H5T_INTEGER', base: 'H5T_STD_I64LE' };
const FLOAT64: H5Type = { class: 'H5T_FLOAT', base: 'H5T_IEEE_F64LE' };

function typeOfDtype(dtype: DType): H5Type {
  if (dtype === 'float32' || dtype === 'float64') return { class: 'H5T_FLOAT', base: `H5T_IEEE_F${dtype.slice(5)}LE` };
  const bits = dtype === 'bool' ? '8' : dtype.replace(/^u?int/, '');
  return { class: 'H5T_INTEGER', base: `H5T_STD_${dtype.startsWith('u') || dtype === 'bool' ? 'U' : 'I'}${bits}LE` };
}

/** A dataset as HDF5 REST describes and serves it: JSON values for scalars and string lists, raw bytes for arrays. */
type Dataset =
  | { shape: Shape; type: H5Type; json: unknown }
  | { shape: Shape; type: H5Type; array: NDArray };

/** numpy's np.array(list) for rectangular lists of numbers: int64 when all are integers, else float64 */
function arrayOfList(list: readonly unknown[]): NDArray | undefined {
  const dims: number[] = [];
  for (let level: unknown = list; Array.isArray(level); level = level[0]) {
    dims.push(level.length);
    if (level.length === 0) break;
  }
  const flat: number[] = [];
  const walk = (value: unknown, depth: number): boolean => {
    if (depth === dims.length) {
      if (typeof value === 'boolean') value = Number(value);
      if (typeof value !== 'number') return false;
      flat.push(value);
      return true;
    }
    return Array.isArray(value) && value.length === dims[depth] && value.every((item) => walk(item, depth + 1));
  };
  if (!walk(list, 0)) return undefined;
  const integers = list.length > 0 && flat.every(Number.isSafeInteger);
  return integers ? { data: BigInt64Array.from(flat, BigInt), shape: dims, dtype: 'int64' }
    : { data: Float64Array.from(flat), shape: dims, dtype: 'float64' };
}

export function datasetOf(value: unknown): Dataset | undefined {
  const scalar: Shape = { class: 'H5S_SCALAR' };
  switch (typeof value) {
    case 'number': return { shape: scalar, type: Number.isInteger(value) ? INT64 : FLOAT64, json: value };
    case 'bigint': return { shape: scalar, type: INT64, json: value };
    case 'boolean': return { shape: scalar, type: INT64, json: Number(value) };
    case 'string': return { shape: scalar, type: STRING_TYPE, json: value };
  }
  if (Array.isArray(value)) {
    if (value.length > 0 && typeof value[0] === 'string') {
      return value.every((item) => typeof item === 'string')
        ? { shape: { class: 'H5S_SIMPLE', dims: [value.length] }, type: STRING_TYPE, json: value } : undefined;
    }
    const array = arrayOfList(value);
    return array && { shape: { class: 'H5S_SIMPLE', dims: array.shape }, type: typeOfDtype(array.dtype), array };
  }
  if (value === null || value === undefined || isRecord(value) || Buffer.isBuffer(value)) return undefined;
  let item;
  try {
    item = classify(value);
  } catch {
    return undefined;
  }
  if (item.kind !== 'array') return undefined;
  const { shape, dtype } = item.value;
  return { shape: shape.length ? { class: 'H5S_SIMPLE', dims: shape } : scalar, type: typeOfDtype(dtype), array: item.value };
}

/** HSDS's `select=[a:b:c,d:e]`: one start:stop[:step] (or an index) per dimension */
function selectIndexers(select: string): ReturnType<typeof parseSlice> {
  const inner = select.trim().replace(/^\[/, '').replace(/\]$/, '');
  return parseSlice(inner).map((indexer) => (indexer.kind === 'index'
    ? { kind: 'slice', start: indexer.index, stop: indexer.index === -1 ? null : indexer.index + 1, step: null } : indexer));
}

function bytesOf(array: NDArray): Buffer {
  const { data } = array;
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function sendJson(ctx: Context, body: unknown): void {
  ctx.type = 'application/json';
  ctx.body = encodeJson(body);
}

export function createHdf5Router(getPublish: () => unknown): Router {
  const router = new Router();
  const view = (): PublishView => publishView(getPublish() ?? {});

  const read = async (path: readonly string[], outline: boolean, notFound: string): Promise<unknown> => {
    const outcome = await view().read(path, outline);
    if (!outcome.found) throw new ResultError(404, notFound);
    return outcome.value;
  };
  const group = async (id: string): Promise<{ path: string[]; children: Record<string, unknown> }> => {
    const path = pathOfId('groups', id);
    if (!path) throw new ResultError(404, 'Group not found');
    const children = await read(path, true, 'Group not found');
    if (!isRecord(children)) throw new ResultError(404, 'Group not found');
    return { path, children };
  };
  const dataset = async (id: string): Promise<{ path: string[]; dataset: Dataset }> => {
    const path = pathOfId('datasets', id);
    if (!path || path.length === 0) throw new ResultError(404, 'Dataset not found');
    const described = datasetOf(await read(path, false, 'Dataset not found'));
    if (!described) throw new ResultError(404, 'Dataset not found');
    return { path, dataset: described };
  };
  /** the attributes of the object at `path`: the root's `_attrs`, else its parent's `<name>_attrs`; 404 if no such object */
  const attributesOf = async (collection: Collection, id: string): Promise<Record<string, unknown>> => {
    const notFound = collection === 'groups' ? 'Group not found' : 'Dataset not found';
    const path = pathOfId(collection, id);
    if (!path || (collection === 'datasets' && path.length === 0)) throw new ResultError(404, notFound);
    const parent = await view().read(path.slice(0, -1), true);
    const siblings = parent.found && isRecord(parent.value) ? parent.value : undefined;
    const name = path[path.length - 1];
    if (name !== undefined && (!siblings || !Object.hasOwn(siblings, name) || isRecord(siblings[name]) !== (collection === 'groups'))) {
      throw new ResultError(404, notFound);
    }
    const attributes = siblings?.[name === undefined ? ATTRS : `${name}${ATTRS}`];
    return isRecord(attributes) ? attributes : {};
  };
  const link = (path: readonly string[], title: string, value: unknown) => {
    const collection: Collection = isRecord(value) ? 'groups' : 'datasets';
    return { ...stamps(), class: 'H5L_TYPE_HARD', collection, id: objectId(collection, [...path, title]), title };
  };
  const links = (path: readonly string[], children: Record<string, unknown>) => Object.entries(children)
    .filter(([key, value]) => !(key.endsWith(ATTRS) && isRecord(value)))
    .map(([key, value]) => link(path, key, value));
  const attribute = (name: string, value: unknown, withValue: boolean) => {
    const described = datasetOf(value);
    if (!described) return undefined;
    const entry = { ...stamps(), name, type: described.type, shape: described.shape };
    return withValue ? { ...entry, value: 'json' in described ? described.json : described.array } : entry;
  };

  router.get('/', (ctx) => sendJson(ctx, { ...stamps(), root: ROOT_ID, owner: 'admin', class: 'domain' }));

  router.get('/groups/:id', async (ctx) => {
    const { path, children } = await group(ctx.params.id);
    sendJson(ctx, { ...stamps(), root: ROOT_ID, id: ctx.params.id, linkCount: links(path, children).length,
      attributeCount: Object.keys(await attributesOf('groups', ctx.params.id)).length });
  });
  router.get('/groups/:id/links', async (ctx) => {
    const { path, children } = await group(ctx.params.id);
    sendJson(ctx, { links: links(path, children) });
  });
  router.get('/groups/:id/links/:name', async (ctx) => {
    const { path, children } = await group(ctx.params.id);
    const found = links(path, children).find((entry) => entry.title === ctx.params.name);
    if (!found) throw new ResultError(404, 'Link not found');
    sendJson(ctx, { link: found });
  });

  router.get('/datasets/:id', async (ctx) => {
    const { dataset: { shape, type } } = await dataset(ctx.params.id);
    sendJson(ctx, { ...stamps(), id: ctx.params.id, attributeCount: Object.keys(await attributesOf('datasets', ctx.params.id)).length, shape, type,
      creationProperties: { allocTime: 'H5D_ALLOC_TIME_LATE', fillTime: 'H5D_FILL_TIME_IFSET', layout: { class: 'H5D_CONTIGUOUS' } } });
  });
  router.get('/datasets/:id/value', async (ctx) => {
    const { dataset: described } = await dataset(ctx.params.id);
    const select = typeof ctx.query.select === 'string' ? selectIndexers(ctx.query.select) : undefined;
    if ('json' in described) {
      const value = select && Array.isArray(described.json) ? sliceLeaves(described.json, select, 'value') : described.json;
      sendJson(ctx, { value });
      return;
    }
    // select's indices are all ranges, so the selection stays an NDArray
    let body = bytesOf((select ? sliceLeaves(described.array, select, 'value') : described.array) as NDArray);
    ctx.type = 'application/octet-stream';
    ctx.vary('Accept-Encoding');
    if (body.length > GZIP_ABOVE && /\bgzip\b/.test(ctx.get('Accept-Encoding'))) {
      body = gzipSync(body, { level: GZIP_LEVEL });
      ctx.set('Content-Encoding', 'gzip');
    }
    ctx.body = body;
  });

  for (const collection of ['groups', 'datasets'] as const) {
    router.get(`/${collection}/:id/attributes`, async (ctx) => {
      const attributes = await attributesOf(collection, ctx.params.id);
      sendJson(ctx, { attributes: Object.entries(attributes).flatMap(([name, value]) => attribute(name, value, false) ?? []) });
    });
    router.get(`/${collection}/:id/attributes/:name`, async (ctx) => {
      const attributes = await attributesOf(collection, ctx.params.id);
      const found = Object.hasOwn(attributes, ctx.params.name) ? attribute(ctx.params.name, attributes[ctx.params.name], true) : undefined;
      if (!found) throw new ResultError(404, 'Attribute not found');
      sendJson(ctx, found);
    });
  }
  return router;
}

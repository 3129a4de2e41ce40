/**
 * The device model over the Tango REST API v1.1 (tango-controls/rest-api, docs/hosts.md, device.md,
 * general.md): the Tango host and its device list and tree; the device, its state, attributes
 * (values, infos, history, properties, bulk reads and writes) and commands (with history) under
 * `/tango/rest/v11/hosts/{host}[;port={port}]/devices/{domain}/{family}/{member}`. Any Tango host is
 * accepted (there is only this device); names are case-insensitive.
 *
 * Across every resource: `?filter=` keeps (or `!`-drops) fields by name, `?range=a-b` cuts a
 * collection (206 with Content-Range, 416 when unsatisfiable; collections say Accept-Ranges and
 * X-size), responses carry Cache-Control with max-age-millis, Expires and an ETag, and a
 * conditional GET (If-None-Match, If-Modified-Since) of an unchanged resource is answered 304.
 * Refusals, an unknown device, attribute or command included, are 400 with the spec's error body.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type Koa from 'koa';
import Router from '@koa/router';
import { MAX_JSON_BODY, MAX_PARAMETER_BYTES } from '../../core/defaults.js';
import { checkJsonDepth, readBody } from '../../core/http/body.js';
import { TangoError } from './errors.js';
import type { AttributeReading, PipelineDevice, TrackedReading } from './model.js';

const REST_ROOT = '/tango/rest';
const VERSION = 'v11';
const HOST_PATH = `${REST_ROOT}/${VERSION}/hosts/:host`;
const DEVICE_PATH = `${HOST_PATH}/devices/:domain/:family/:member`;
const TANGO_DEFAULT_PORT = 10000;
/** how long clients may keep what they read: values change with every poll, lists rarely */
const VALUE_MAX_AGE_MS = 200;
const LIST_MAX_AGE_MS = 1000;

interface Place {
  /** `host:port` as value objects name it */
  host: string;
  /** the host's URL (`.../hosts/{host};port={port}`), for links */
  hostHref: string;
  /** the device's URL, for links */
  href: string;
}

/** this server as the client reached it, for links (koa 3's ctx.origin is the Origin header) */
function serverUrl(ctx: Koa.Context): string {
  return `${ctx.protocol}://${ctx.host}`;
}

function isTrue(value: unknown): boolean {
  return ['true', '1'].includes(String(value).toLowerCase());
}

/** a query value that may be repeated, as a list */
function list(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : [value].flat();
}

/** `host[;port=P]` of the path, as `host:port` */
function tangoHost(segment: string): string {
  const [hostName, ...matrix] = segment.split(';');
  const port = matrix.map((m) => /^port=(\d+)$/.exec(m)?.[1]).find(Boolean) ?? String(TANGO_DEFAULT_PORT);
  return `${hostName}:${port}`;
}

/** Tango wildcards (`sys*` / `*` per name part), case-insensitive */
function wildcardMatches(patterns: string[], name: string): boolean {
  if (!patterns.length) return true;
  return patterns.some((pattern) => {
    const expression = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
    return new RegExp(`^${expression}$`, 'i').test(name);
  });
}

/** `?filter=a&filter=b` keeps fields named so (at any depth), `?filter=!a` drops them */
function applyFilter(value: unknown, keep: Set<string>, drop: Set<string>): unknown {
  if (Array.isArray(value)) return value.map((item) => applyFilter(item, keep, drop));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (drop.has(key)) continue;
    if (!keep.size || keep.has(key)) {
      out[key] = keep.size ? item : applyFilter(item, keep, drop);
      continue;
    }
    // a field not kept stays only for what it holds that is kept
    const inner = applyFilter(item, keep, drop);
    if (inner !== null && typeof inner === 'object' && Object.keys(inner).length) out[key] = inner;
  }
  return out;
}

function etagOf(body: unknown): string {
  return `"${createHash('sha1').update(JSON.stringify(body)).digest('hex').slice(0, 20)}"`;
}

function setCache(ctx: Koa.Context, maxAgeMs: number): void {
  ctx.set('Cache-Control', `no-transform, max-age=${Math.floor(maxAgeMs / 1000)}, max-age-millis="${maxAgeMs}"`);
  ctx.set('Expires', new Date(Date.now() + maxAgeMs).toUTCString());
}

/**
 * What every GET answer goes through: range, filter, caching headers, and 304 for a client that has
 * it already. `ctx.state.maxAgeMs` and an ETag set by the route take precedence.
 */
const shapeAnswers: Koa.Middleware = async (ctx, next) => {
  await next();
  if (ctx.method !== 'GET' || ctx.status !== 200 || ctx.body === null || typeof ctx.body !== 'object' || Buffer.isBuffer(ctx.body)) return;
  if (Array.isArray(ctx.body)) {
    const size = ctx.body.length;
    ctx.set('Accept-Ranges', 'items');
    ctx.set('X-size', String(size));
    if (ctx.query.range !== undefined) {
      const match = /^(\d+)-(\d+)$/.exec(list(ctx.query.range as string | string[])[0]!);
      const [start, end] = match ? [Number(match[1]), Number(match[2])] : [NaN, NaN];
      if (!match || start > end || start >= size) {
        ctx.set('Content-Range', `items */${size}`);
        throw new TangoError('API_InvalidRange', `range ${String(ctx.query.range)} cannot be satisfied: the collection has ${size} items (ranges are start-end, counted from 0)`, ctx.path, 416);
      }
      const last = Math.min(end, size - 1);
      ctx.body = ctx.body.slice(start, last + 1);
      ctx.status = 206;
      ctx.set('Content-Range', `items ${start}-${last}/${size}`);
    }
  }
  const filters = list(ctx.query.filter as string | string[] | undefined);
  if (filters.length) {
    const keep = new Set(filters.filter((f) => !f.startsWith('!')));
    const drop = new Set(filters.filter((f) => f.startsWith('!')).map((f) => f.slice(1)));
    ctx.body = applyFilter(ctx.body, keep, drop);
  }
  setCache(ctx, (ctx.state.maxAgeMs as number | undefined) ?? LIST_MAX_AGE_MS);
  if (!ctx.response.get('ETag')) ctx.set('ETag', etagOf(ctx.body));
  if (ctx.status === 200 && ctx.fresh) {
    ctx.status = 304;
    ctx.body = null;
  }
};

export function tangoRouter(device: PipelineDevice): Router {
  const router = new Router();
  const startedAt = new Date();
  router.use(shapeAnswers);

  const hostHref = (ctx: Koa.Context) => `${serverUrl(ctx)}${REST_ROOT}/${VERSION}/hosts/${(ctx.params as { host: string }).host}`;

  /** runs a device route once the device name is checked (a TangoError renders as the spec's failure body) */
  const route = (handler: (ctx: Koa.Context, place: Place) => Promise<void> | void): Koa.Middleware => async (ctx) => {
    const { host, domain, family, member } = ctx.params as Record<string, string>;
    const name = `${domain}/${family}/${member}`;
    if (name.toLowerCase() !== device.name.toLowerCase()) {
      throw new TangoError('API_DeviceNotDefined', `device ${name} is not defined here (this controller serves ${device.name})`, name);
    }
    const hosts = hostHref(ctx);
    await handler(ctx, { host: tangoHost(host), hostHref: hosts, href: `${hosts}/devices/${device.name}` });
  };

  /** a value object: the spec's fields, and for an ATTR_INVALID value why */
  const valueObject = (reading: AttributeReading, place: Place) => ({
    name: reading.name, host: place.host, device: device.name, value: reading.value, quality: reading.quality, timestamp: reading.timestamp,
    ...(reading.reason === undefined ? {} : { reason: reading.reason }),
  });

  /** an element of a bulk answer: a value object, or the failure under the requested name */
  const bulkElement = (reading: TrackedReading | TangoError, name: string, place: Place) =>
    (reading instanceof TangoError ? { name, host: place.host, device: device.name, ...reading.toFailure() } : valueObject(reading, place));

  const sendValue = (ctx: Koa.Context, reading: TrackedReading, place: Place) => {
    ctx.state.maxAgeMs = VALUE_MAX_AGE_MS;
    ctx.set('Last-Modified', new Date(reading.changedAt).toUTCString());
    ctx.set('ETag', `"${reading.etag}"`);
    if (ctx.accepts('application/json', 'text/plain') === 'text/plain') {
      ctx.type = 'text/plain';
      ctx.body = JSON.stringify(reading.value);
      setCache(ctx, VALUE_MAX_AGE_MS);
      if (ctx.fresh) ctx.status = 304;
      return;
    }
    ctx.body = valueObject(reading, place);
  };

  const attributeObject = (name: string, place: Place) => {
    const info = device.attributeInfo(name);
    const href = `${place.href}/attributes/${info.name}`;
    return {
      id: `${place.host}/${device.name}/${info.name}`, name: info.name, device: device.name, host: place.host, info,
      value: `${href}/value`, history: `${href}/history`, properties: `${href}/properties`,
    };
  };

  const commandObject = (name: string, place: Place) => {
    const { name: canonical, info } = device.commandInfo(name);
    return {
      id: `${place.host}/${device.name}/${canonical}`, name: canonical, device: device.name, host: place.host,
      history: `${place.href}/commands/${canonical}/history`, info: { cmd_name: canonical, ...info },
    };
  };

  /** the request body as JSON (undefined when empty); bad or too deeply nested JSON is refused with `reason` */
  const jsonBody = async (ctx: Koa.Context, reason: string): Promise<unknown> => {
    const bytes = await readBody(ctx, MAX_JSON_BODY);
    const text = bytes.toString('utf8');
    if (!text.trim()) return undefined;
    try {
      checkJsonDepth(bytes);
      return JSON.parse(text);
    } catch (error) {
      throw new TangoError(reason, `the body is not JSON: ${(error as Error).message}`, device.name);
    }
  };

  /** a write's value: `?v=`; else the body: raw bytes for a binary parameter, JSON when sent as JSON, text otherwise */
  const writtenValue = async (ctx: Koa.Context, attribute: string): Promise<unknown> => {
    if (ctx.query.v !== undefined) return list(ctx.query.v as string | string[])[0];
    if (device.takesBytes(attribute)) return await readBody(ctx, MAX_PARAMETER_BYTES);
    if (ctx.is('application/json')) return await jsonBody(ctx, 'API_IncompatibleAttrDataType');
    return (await readBody(ctx, MAX_JSON_BODY)).toString('utf8');
  };

  const deviceEntry = (place: { hostHref: string }) => ({ name: device.name, alias: null, href: `${place.hostHref}/devices/${device.name}` });

  /** the webix tree of one Tango host, the device under its domain and family */
  const tree = (host: string, wildcards: string[]) => {
    const [domain, family, member] = device.name.split('/');
    const shown = wildcardMatches(wildcards, device.name);
    return {
      id: host, value: host, $css: 'tango_host', isAlive: true,
      data: [
        { value: 'aliases', $css: 'aliases', data: [] },
        ...(shown ? [{
          value: domain, $css: 'tango_domain',
          data: [{ value: family, $css: 'tango_family', data: [{ id: `${host}/${device.name}`, value: member, $css: 'member', isMember: true, device_name: device.name }] }],
        }] : []),
      ],
    };
  };

  router.get(REST_ROOT, (ctx) => { ctx.body = { [VERSION]: `${serverUrl(ctx)}${REST_ROOT}/${VERSION}` }; });
  router.get(`${REST_ROOT}/${VERSION}`, (ctx) => { ctx.body = { hosts: `${serverUrl(ctx)}${REST_ROOT}/${VERSION}/hosts` }; });
  router.get(`${REST_ROOT}/${VERSION}/devices/tree`, (ctx) => {
    const hosts = list(ctx.query.host as string | string[] | undefined);
    ctx.body = (hosts.length ? hosts : ['localhost']).map((h) => tree(h.includes(':') ? h : `${h}:${TANGO_DEFAULT_PORT}`, list(ctx.query.wildcard as string | string[] | undefined)));
  });

  router.get(HOST_PATH, (ctx) => {
    const host = tangoHost((ctx.params as { host: string }).host);
    const [name, port] = host.split(':');
    ctx.body = {
      host: name, port: Number(port), name: 'sys/database/2',
      info: [`dranspose controller on ${hostname()}, serving one Tango device: ${device.name}`, '', `Running since ${startedAt.toUTCString()}`, '',
        'Devices defined  = 1', 'Devices exported  = 1'],
      devices: `${hostHref(ctx)}/devices`,
      tree: `${hostHref(ctx)}/devices/tree`,
    };
  });
  router.get(`${HOST_PATH}/devices`, (ctx) => {
    const shown = wildcardMatches(list(ctx.query.wildcard as string | string[] | undefined), device.name);
    ctx.body = shown ? [deviceEntry({ hostHref: hostHref(ctx) })] : [];
  });
  router.get(`${HOST_PATH}/devices/tree`, (ctx) => {
    ctx.body = [tree(tangoHost((ctx.params as { host: string }).host), list(ctx.query.wildcard as string | string[] | undefined))];
  });

  router.get(DEVICE_PATH, route((ctx, place) => {
    ctx.body = {
      id: `${place.host}/${device.name}`,
      name: device.name,
      alias: null,
      host: place.host,
      info: {
        name: device.name, ior: 'not a CORBA device: served by the dranspose controller', version: '5', exported: true,
        pid: process.pid, server: `dranspose/${device.name.split('/').pop()}`, hostname: hostname(),
        classname: 'DransposePipeline', is_taco: false, last_exported: startedAt.toUTCString(), last_unexported: '?',
      },
      state: `${place.href}/state`,
      attributes: `${place.href}/attributes`,
      commands: `${place.href}/commands`,
      pipes: `${place.href}/pipes`,
      properties: `${place.href}/properties`,
    };
  }));
  router.get(`${DEVICE_PATH}/state`, route((ctx) => {
    ctx.state.maxAgeMs = VALUE_MAX_AGE_MS;
    ctx.body = device.state();
  }));
  router.get(`${DEVICE_PATH}/pipes`, route((ctx) => { ctx.body = []; }));
  // this device keeps no properties: the lists are empty, and a named one does not exist
  router.get(`${DEVICE_PATH}/properties`, route((ctx) => { ctx.body = []; }));
  router.get(`${DEVICE_PATH}/properties/:property`, route((ctx) => {
    throw new TangoError('API_PropertyNotFound', `device ${device.name} has no property ${ctx.params.property}`, device.name);
  }));

  router.get(`${DEVICE_PATH}/attributes`, route((ctx, place) => {
    ctx.body = device.attributeNames().map((name) => attributeObject(name, place));
  }));
  // the bulk paths come before `attributes/{name}`: `value` and `info` are never attribute names
  router.get(`${DEVICE_PATH}/attributes/value`, route(async (ctx, place) => {
    const names = list(ctx.query.attr as string | string[] | undefined);
    ctx.state.maxAgeMs = VALUE_MAX_AGE_MS;
    ctx.body = (await device.read(names)).map((r, i) => bulkElement(r, names[i]!, place));
  }));
  router.put(`${DEVICE_PATH}/attributes/value`, route(async (ctx, place) => {
    const writes = Object.entries(ctx.query).filter(([key]) => key !== 'async');
    const results = [];
    for (const [name, value] of writes) {
      try {
        results.push(valueObject(await device.write(name, list(value as string | string[])[0]), place));
      } catch (error) {
        if (!(error instanceof TangoError)) throw error;
        results.push(bulkElement(error, name, place));
      }
    }
    if (isTrue(ctx.query.async)) ctx.status = 204;
    else ctx.body = results;
  }));
  router.get(`${DEVICE_PATH}/attributes/info`, route((ctx) => {
    const names = list(ctx.query.attr as string | string[] | undefined);
    ctx.body = (names.length ? names : device.attributeNames()).map((name) => device.attributeInfo(name));
  }));
  router.get(`${DEVICE_PATH}/attributes/:attribute`, route((ctx, place) => {
    ctx.body = attributeObject(ctx.params.attribute!, place);
  }));
  router.get(`${DEVICE_PATH}/attributes/:attribute/info`, route((ctx) => {
    ctx.body = device.attributeInfo(ctx.params.attribute!);
  }));
  router.put(`${DEVICE_PATH}/attributes/:attribute/info`, route(async (ctx) => {
    device.attributeInfo(ctx.params.attribute!);
    const info = device.setAttributeInfo(ctx.params.attribute!, await jsonBody(ctx, 'API_IncompatibleArgumentType'));
    if (isTrue(ctx.query.async)) ctx.status = 204;
    else ctx.body = info;
  }));
  router.get(`${DEVICE_PATH}/attributes/:attribute/value`, route(async (ctx, place) => {
    sendValue(ctx, await device.readOne(ctx.params.attribute!), place);
  }));
  router.put(`${DEVICE_PATH}/attributes/:attribute/value`, route(async (ctx, place) => {
    device.attributeInfo(ctx.params.attribute!);
    const reading = await device.write(ctx.params.attribute!, await writtenValue(ctx, ctx.params.attribute!));
    if (isTrue(ctx.query.async)) ctx.status = 204;
    else sendValue(ctx, reading, place);
  }));
  router.get(`${DEVICE_PATH}/attributes/:attribute/history`, route(async (ctx, place) => {
    ctx.state.maxAgeMs = VALUE_MAX_AGE_MS;
    ctx.body = (await device.history(ctx.params.attribute!)).map((reading) => valueObject(reading, place));
  }));
  router.get(`${DEVICE_PATH}/attributes/:attribute/properties`, route((ctx) => {
    device.attributeInfo(ctx.params.attribute!);
    ctx.body = [];
  }));
  router.get(`${DEVICE_PATH}/attributes/:attribute/properties/:property`, route((ctx) => {
    const { name } = device.attributeInfo(ctx.params.attribute!);
    throw new TangoError('API_PropertyNotFound', `attribute ${name} has no property ${ctx.params.property}`, `${device.name}/${name}`);
  }));

  router.get(`${DEVICE_PATH}/commands`, route((ctx, place) => {
    ctx.body = device.commandInfos().map(({ name }) => commandObject(name, place));
  }));
  router.get(`${DEVICE_PATH}/commands/:command`, route((ctx, place) => { ctx.body = commandObject(ctx.params.command!, place); }));
  router.get(`${DEVICE_PATH}/commands/:command/history`, route((ctx) => {
    ctx.state.maxAgeMs = VALUE_MAX_AGE_MS;
    ctx.body = device.commandHistory(ctx.params.command!);
  }));
  router.put(`${DEVICE_PATH}/commands/:command`, route(async (ctx, place) => {
    device.commandInfo(ctx.params.command!);
    const body = await jsonBody(ctx, 'API_IncompatibleCmdArgumentType');
    // v1.1 sends {"name", "input"} (no input for DevVoid); v1.0 sent the bare argument
    const input = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as { input?: unknown }).input : body;
    const { name, output } = await device.execute(ctx.params.command!, input);
    if (isTrue(ctx.query.async)) {
      ctx.status = 204;
      return;
    }
    ctx.body = { name, host: place.host, device: device.name, ...(input === undefined ? {} : { input }), ...(output === undefined ? {} : { output }) };
  }));

  return router;
}

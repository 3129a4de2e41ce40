/**
 * The device model over the Tango REST API v1.1 (reference/tango.md §1): device, state, attributes
 * (values, infos, bulk reads and writes) and commands under
 * `/tango/rest/v11/hosts/{host}[;port={port}]/devices/{domain}/{family}/{member}`. Any Tango host is
 * accepted (there is only this device); names are case-insensitive; refusals have the spec's error shape.
 */
import { hostname } from 'node:os';
import type Koa from 'koa';
import Router from '@koa/router';
import { checkJsonDepth, readBody } from '../../core/http/body.js';
import { TangoError } from './errors.js';
import type { AttributeReading, PipelineDevice } from './model.js';

const REST_ROOT = '/tango/rest';
const VERSION = 'v11';
const DEVICE_PATH = `${REST_ROOT}/${VERSION}/hosts/:host/devices/:domain/:family/:member`;
const TANGO_DEFAULT_PORT = 10000;
const MAX_BODY = 64 * 1024 * 1024;

interface Place {
  /** `host:port` as value objects name it */
  host: string;
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

export function tangoRouter(device: PipelineDevice): Router {
  const router = new Router();
  const startedAt = new Date();

  /** runs a device route once the device name is checked (a TangoError renders as the spec's failure body) */
  const route = (handler: (ctx: Koa.Context, place: Place) => Promise<void> | void): Koa.Middleware => async (ctx) => {
    const { host, domain, family, member } = ctx.params as Record<string, string>;
    const name = `${domain}/${family}/${member}`;
    if (name.toLowerCase() !== device.name.toLowerCase()) {
      throw new TangoError('API_DeviceNotDefined', `device ${name} is not defined here (this controller serves ${device.name})`, name, 404);
    }
    const [hostName, ...matrix] = host.split(';');
    const port = matrix.map((m) => /^port=(\d+)$/.exec(m)?.[1]).find(Boolean) ?? String(TANGO_DEFAULT_PORT);
    await handler(ctx, { host: `${hostName}:${port}`, href: `${serverUrl(ctx)}${REST_ROOT}/${VERSION}/hosts/${host}/devices/${device.name}` });
  };

  /** a value object, or for a failed element of a bulk answer the failure under the requested name */
  const valueObject = (reading: AttributeReading | TangoError, name: string, place: Place) =>
    (reading instanceof TangoError ? { name, ...reading.toFailure() } : { ...reading, host: place.host, device: device.name });

  const sendValue = (ctx: Koa.Context, reading: AttributeReading, place: Place) => {
    ctx.set('Last-Modified', new Date(reading.timestamp).toUTCString());
    if (ctx.accepts('application/json', 'text/plain') === 'text/plain') {
      ctx.type = 'text/plain';
      ctx.body = JSON.stringify(reading.value);
      return;
    }
    ctx.body = valueObject(reading, reading.name, place);
  };

  // no history or properties links: this device keeps neither
  const attributeObject = (name: string, place: Place) => {
    const info = device.attributeInfo(name);
    return { name: info.name, value: `${place.href}/attributes/${info.name}/value`, info };
  };

  /** the request body as text, or parsed as JSON (undefined when empty); bad JSON is refused with `reason` */
  const requestBody = async (ctx: Koa.Context, json: boolean, reason: string): Promise<unknown> => {
    const bytes = await readBody(ctx, MAX_BODY);
    const text = bytes.toString('utf8');
    if (!json) return text;
    if (!text.trim()) return undefined;
    try {
      checkJsonDepth(bytes);
      return JSON.parse(text);
    } catch (error) {
      throw new TangoError(reason, `the body is not JSON: ${(error as Error).message}`, device.name);
    }
  };

  /** a write's value: `?v=`, else the body (JSON when sent as JSON, text otherwise) */
  const writtenValue = async (ctx: Koa.Context): Promise<unknown> =>
    (ctx.query.v !== undefined ? list(ctx.query.v)[0] : await requestBody(ctx, !!ctx.is('application/json'), 'API_IncompatibleAttrDataType'));

  router.get(REST_ROOT, (ctx) => { ctx.body = { [VERSION]: `${serverUrl(ctx)}${REST_ROOT}/${VERSION}` }; });
  router.get(`${REST_ROOT}/${VERSION}`, (ctx) => { ctx.body = { hosts: `${serverUrl(ctx)}${REST_ROOT}/${VERSION}/hosts` }; });

  router.get(DEVICE_PATH, route((ctx, place) => {
    ctx.body = {
      name: device.name,
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
  router.get(`${DEVICE_PATH}/state`, route((ctx) => { ctx.body = device.state(); }));
  router.get(`${DEVICE_PATH}/pipes`, route((ctx) => { ctx.body = []; }));
  router.get(`${DEVICE_PATH}/properties`, route((ctx) => { ctx.body = []; }));

  router.get(`${DEVICE_PATH}/attributes`, route((ctx, place) => {
    ctx.body = device.attributeNames().map((name) => attributeObject(name, place));
  }));
  // the bulk paths come before `attributes/{name}`: `value` and `info` are never attribute names
  router.get(`${DEVICE_PATH}/attributes/value`, route(async (ctx, place) => {
    const names = list(ctx.query.attr);
    ctx.body = (await device.read(names)).map((r, i) => valueObject(r, names[i], place));
  }));
  router.put(`${DEVICE_PATH}/attributes/value`, route(async (ctx, place) => {
    const writes = Object.entries(ctx.query).filter(([key]) => key !== 'async');
    const results = [];
    for (const [name, value] of writes) {
      try {
        results.push(valueObject(await device.write(name, list(value)[0]), name, place));
      } catch (error) {
        if (!(error instanceof TangoError)) throw error;
        results.push(valueObject(error, name, place));
      }
    }
    if (isTrue(ctx.query.async)) ctx.status = 204;
    else ctx.body = results;
  }));
  router.get(`${DEVICE_PATH}/attributes/info`, route((ctx) => {
    const names = list(ctx.query.attr);
    ctx.body = (names.length ? names : device.attributeNames()).map((name) => device.attributeInfo(name));
  }));
  router.get(`${DEVICE_PATH}/attributes/:attribute`, route((ctx, place) => {
    ctx.body = attributeObject(ctx.params.attribute, place);
  }));
  router.get(`${DEVICE_PATH}/attributes/:attribute/info`, route((ctx) => {
    ctx.body = device.attributeInfo(ctx.params.attribute);
  }));
  router.get(`${DEVICE_PATH}/attributes/:attribute/value`, route(async (ctx, place) => {
    sendValue(ctx, await device.readOne(ctx.params.attribute), place);
  }));
  router.put(`${DEVICE_PATH}/attributes/:attribute/value`, route(async (ctx, place) => {
    const reading = await device.write(ctx.params.attribute, await writtenValue(ctx));
    if (isTrue(ctx.query.async)) ctx.status = 204;
    else sendValue(ctx, reading, place);
  }));

  router.get(`${DEVICE_PATH}/commands`, route((ctx) => { ctx.body = device.commandInfos(); }));
  router.get(`${DEVICE_PATH}/commands/:command`, route((ctx) => { ctx.body = device.commandInfo(ctx.params.command); }));
  router.put(`${DEVICE_PATH}/commands/:command`, route(async (ctx, place) => {
    device.commandInfo(ctx.params.command);
    const body = await requestBody(ctx, true, 'API_IncompatibleCmdArgumentType');
    // v1.1 sends {"name", "input"} (no input for DevVoid); v1.0 sent the bare argument
    const input = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as { input?: unknown }).input : body;
    const { name, output } = await device.execute(ctx.params.command, input);
    if (isTrue(ctx.query.async)) {
      ctx.status = 204;
      return;
    }
    ctx.body = { name, host: place.host, device: device.name, ...(input === undefined ? {} : { input }), ...(output === undefined ? {} : { output }) };
  }));

  return router;
}

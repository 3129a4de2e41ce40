/**
 * The OpenAPI 3.1 description of the controller's HTTP API (`GET /api/v1/openapi.json`, shown by
 * Swagger UI at `/api/v1/docs`), generated with zod-openapi from the schemas the routes validate
 * with: trigger maps (core/mapping/schema.ts), scan descriptions, parameter descriptions and
 * api-schemas.ts. The Tango REST device model is described by the Tango REST API, not here.
 */
import { z } from 'zod';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from 'zod-openapi';
import { partSchema, sequenceRequestSchema } from '../core/mapping/schema.js';
import { parameterDescriptionSchema } from '../core/parameters.js';
import { VERSION } from '../core/version.js';
import { errorBodySchema } from '../core/http/errors.js';
import { resultPaths } from '../reducer/results/openapi.js';
import {
  allWrapQuerySchema, componentStateSchema, configSchema, loadQuerySchema, logEntrySchema, loadSchema,
  progressSchema, readinessSchema, sardanaHookSchema, scanRecordSchema, scansQuerySchema, statusQuerySchema, statusSchema,
} from './api-schemas.js';
import { scanDescriptionSchema } from './scan-description.js';

const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });
const refused = (description: string) => json(errorBodySchema, description);
const binary = { type: 'string', format: 'binary' } as const;
const secured = [{ bearer: [] }];

/** a state-changing POST: JSON body (or raw bytes), answered with JSON; refusals as {detail} */
function post(summary: string, body: ZodOpenApiOperationObject['requestBody'], answer: z.ZodType, answerText: string, query?: z.ZodObject): ZodOpenApiOperationObject {
  return {
    summary,
    security: secured,
    ...(query ? { requestParams: { query } } : {}),
    ...(body ? { requestBody: body } : {}),
    responses: {
      200: json(answer, answerText),
      400: refused('the request is wrong: the detail names what'),
      401: refused('a token is configured and the request did not carry it (Authorization: Bearer)'),
      413: refused('the body is larger than the limit'),
      415: refused('JSON must be sent as application/json'),
    },
  };
}

const jsonBody = (schema: z.ZodType) => ({ required: true, content: { 'application/json': { schema } } });
const scanId = z.string().meta({ description: 'the id of the new scan (mapping_uuid)' });
const get = (summary: string, response: ReturnType<typeof json>, query?: z.ZodObject): { get: ZodOpenApiOperationObject } =>
  ({ get: { summary, ...(query ? { requestParams: { query } } : {}), responses: { 200: response, ...(query ? { 400: refused('a bad query option') } : {}) } } });
const currentMap = z.looseObject({ parts: z.record(z.string(), z.unknown()), sequence: z.array(z.string()) })
  .meta({ description: 'the current map as {parts: {name: {mapping: …}}, sequence: […]}' });
const text = (description: string, type: string) => ({ description, content: { [type]: { schema: { type: 'string' } } } }) as const;

const paths: ZodOpenApiPathsObject = {
  '/api/v1/config': get('the components (ingesters, workers, reducer) and the parameter versions', json(configSchema, 'the registered components')),
  '/api/v1/status': get('progress, assignment, credit in force and the problems of the scan', json(statusSchema, 'the scan\'s status'), statusQuerySchema),
  '/api/v1/progress': get('events assigned, completed and in all', json(progressSchema, 'the progress of the current scan')),
  '/api/v1/load': get('per worker: busy and total time over the newest events and the scan', json(loadSchema, 'worker load'), loadQuerySchema),
  '/api/v1/sequence': {
    ...get('the current trigger map', json(currentMap, 'the map')),
    post: post('start a scan with a trigger map {parts, sequence}; answers once every component adopted it', jsonBody(sequenceRequestSchema), scanId, 'the scan id', allWrapQuerySchema),
  },
  '/api/v1/mapping': {
    ...get('the current trigger map (the original\'s name)', json(currentMap, 'the map')),
    post: post('start a scan with a one-part map {stream: [entries]} (deprecated form)', jsonBody(partSchema), scanId, 'the scan id', allWrapQuerySchema),
  },
  '/api/v1/scan': { post: post('start a scan from a scan description (docs/hooks.md)', jsonBody(scanDescriptionSchema), scanId, 'the scan id', allWrapQuerySchema) },
  '/api/v1/sardana_hook': { post: post('start a scan of nb_points uniform events over the available streams', jsonBody(sardanaHookSchema), scanId, 'the scan id') },
  '/api/v1/stop': { post: post('finish the current scan now', undefined, z.null(), 'null') },
  '/api/v1/parameters': get('every described parameter, sorted by name', json(z.array(parameterDescriptionSchema.meta({ id: 'ParameterDescription' })), 'the descriptions')),
  '/api/v1/parameter/{name}': {
    get: {
      summary: 'a parameter\'s value as raw bytes',
      requestParams: { path: z.object({ name: z.string() }) },
      responses: { 200: { description: 'the value', content: { 'application/x.bytes': { schema: binary } } }, 404: refused('no such parameter') },
    },
    post: {
      ...post('set a parameter (raw bytes: text for str/int/float/bool, the file for binary)',
        { required: true, content: { 'application/octet-stream': { schema: binary } } }, z.string().meta({ description: 'the new parameters hash' }), 'accepted'),
      requestParams: { path: z.object({ name: z.string() }) },
    },
  },
  '/api/v1/logs': get('recent log records of every component', json(z.array(logEntrySchema), 'log records, oldest first'),
    z.object({ level: z.enum(['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL']).optional().meta({ description: 'the lowest level shown (default INFO)' }) })),
  '/api/v1/log_stream': { get: { summary: 'log records as they come', responses: { 200: text('newline-delimited JSON, one record a line, open until the client leaves', 'application/x-ndjson') } } },
  '/api/v1/scans': get('the scans of this controller, newest first', json(z.array(scanRecordSchema), 'scan records'), scansQuerySchema),
  '/api/v1/components': get('each component\'s life: up, restarted, gone', json(z.array(componentStateSchema), 'every component seen')),
  ...resultPaths('/api/v1/reducer', ' (the reducer\'s API through the controller, read-only)'),
  '/api/v1/reducer/openapi.json': { get: { summary: 'the reducer\'s OpenAPI document, through the controller', responses: { 200: json(z.looseObject({}), 'OpenAPI 3.1'), 502: refused('the reducer did not answer'), 503: refused('no reducer is registered') } } },
  '/api/v1/openapi.json': { get: { summary: 'this document', responses: { 200: json(z.looseObject({}), 'OpenAPI 3.1') } } },
  '/api/v1/docs': { get: { summary: 'this document, readable (Swagger UI)', responses: { 200: text('a page', 'text/html') } } },
  '/': { get: { summary: 'the dashboard', responses: { 200: text('a page', 'text/html') } } },
  '/metrics': { get: { summary: 'Prometheus metrics', responses: { 200: text('Prometheus text format 0.0.4', 'text/plain') } } },
  '/healthz': { get: { summary: 'liveness: the controller answers', responses: { 200: json(z.object({ status: z.literal('alive') }), 'alive') } } },
  '/readyz': {
    get: {
      summary: 'readiness: Redis answers and an ingester, a worker and the reducer are registered',
      responses: { 200: json(readinessSchema, 'ready'), 503: json(readinessSchema, 'not ready: the problems say why') },
    },
  },
};

let document: unknown;

export function controllerOpenApiDocument(): unknown {
  document ??= createDocument({
    openapi: '3.1.0',
    info: {
      title: 'dranspose controller',
      version: VERSION,
      description: 'Trigger maps, scans, parameters, progress and the pipeline\'s components. The paths and shapes of the original dranspose stay.',
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'only when the controller has a token (DRANSPOSE_TOKEN)' } } },
    paths,
  });
  return document;
}

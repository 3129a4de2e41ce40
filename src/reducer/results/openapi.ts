/**
 * The OpenAPI 3.1 description of the reducer's HTTP API (`GET /api/v1/openapi.json`), generated
 * with zod-openapi from the schemas the routes use. The result paths are also described under the
 * controller's proxy (`/api/v1/reducer/...`), from here.
 */
import { z } from 'zod';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from 'zod-openapi';
import { VERSION } from '../../core/version.js';
import { errorBodySchema } from '../../core/http/errors.js';
import { formatNames } from './respond.js';
import { outlineSchema } from './outline.js';

const binary = { type: 'string', format: 'binary' } as const;

const resultQuerySchema = z.object({
  slice: z.string().optional().meta({ description: 'numpy-style slicing of every array leaf: `0:10,::2,5`, `...`', example: '::4,::4' }),
  format: z.enum(formatNames).optional().meta({ description: 'the body format, instead of Accept' }),
  single: z.enum(['true', '1', '']).optional().meta({ description: 'a definite path answers its value alone; without it, the list of matches (the original 0.1)' }),
});

const refusals = {
  400: { description: 'a bad JSONPath, slice or format', content: { 'application/json': { schema: errorBodySchema } } },
  404: { description: 'nothing published at the path', content: { 'application/json': { schema: errorBodySchema } } },
  406: { description: 'no format of Accept fits (npy holds one array only)', content: { 'application/json': { schema: errorBodySchema } } },
};

const resultBodies = {
  'application/json': { schema: z.unknown().meta({ description: 'arrays as nested lists' }) },
  'application/cbor': { schema: binary },
  'application/x-npy': { schema: binary },
  'application/x.pickle': { schema: binary },
};

const resultOperation = (summary: string): ZodOpenApiOperationObject => ({
  summary,
  requestParams: { path: z.object({ jsonpath: z.string().meta({ description: 'JSONPath into publish; `$` or empty for all of it', example: 'roi_sum' }) }), query: resultQuerySchema },
  responses: { 200: { description: 'the selection, in the format asked for', content: resultBodies }, ...refusals },
});

/** the read-only result paths, under `prefix` (the reducer's own `/api/v1`, or the controller's proxy) */
export function resultPaths(prefix: string, via = ''): ZodOpenApiPathsObject {
  return {
    [`${prefix}/result/{jsonpath}`]: { get: resultOperation(`a part of publish, sliced${via}`) },
    [`${prefix}/result/pickle`]: {
      get: { summary: `all of publish as a pickle (the original's route)${via}`, responses: { 200: { description: 'pickle protocol 3', content: { 'application/x.pickle': { schema: binary } } } } },
    },
    [`${prefix}/outline`]: {
      get: { summary: `what publish holds: keys, kinds, shapes, scalars, no arrays${via}`, responses: { 200: { description: 'the outline', content: { 'application/json': { schema: outlineSchema } } } } },
    },
  };
}

let document: unknown;

export function reducerOpenApiDocument(): unknown {
  document ??= createDocument({
    openapi: '3.1.0',
    info: { title: 'dranspose reducer', version: VERSION, description: 'The reducer\'s publish object, selected with JSONPath and sliced like numpy arrays.' },
    paths: {
      ...resultPaths('/api/v1'),
      '/api/v1/status': { get: { summary: 'the reducer answers', responses: { 200: { description: 'true', content: { 'application/json': { schema: z.literal(true) } } } } } },
      '/api/v1/openapi.json': { get: { summary: 'this document', responses: { 200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: z.looseObject({}) } } } } } },
    },
  });
  return document;
}

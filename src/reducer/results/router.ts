/**
 * The reducer's result API: `GET /api/v1/result/{jsonpath}?slice=...` answers with the selected
 * part of `publish`, sliced and encoded as the client asks (see respond.ts);
 * `GET /api/v1/result/pickle` is the original's whole-publish pickle; `GET /api/v1/outline` what
 * `publish` holds, without the arrays (outline.ts); `GET /api/v1/openapi.json` this API described.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { ResultError } from './result-error.js';
import { type ResultFormatName, respondWithValue } from './respond.js';
import { outlinePublish } from './outline.js';
import { reducerOpenApiDocument } from './openapi.js';
import { selectResult } from './select.js';
import { parseSlice, sliceLeaves } from './slice.js';

export function createResultRouter(getPublish: () => unknown): Router {
  const router = new Router();
  const answer = (ctx: Context, path: string, format?: ResultFormatName): void => {
    respondWithValue(ctx, selectAndSlice(getPublish(), path, ctx.query.slice), format);
  };
  router.get('/api/v1/result/pickle', (ctx) => answer(ctx, '$', 'pickle'));
  router.get('/api/v1/outline', (ctx) => { ctx.body = outlinePublish(getPublish()); });
  router.get('/api/v1/openapi.json', (ctx) => { ctx.body = reducerOpenApiDocument(); });
  // a RegExp route, because a JSONPath may hold any character, '/' included
  router.get(/^\/api\/v1\/result(?:\/(.*))?$/, (ctx) => {
    let path: string;
    try {
      path = decodeURIComponent(ctx.captures?.[0] ?? '');
    } catch {
      throw new ResultError(400, `the path ${JSON.stringify(ctx.path)} is not valid percent-encoding`);
    }
    answer(ctx, path);
  });
  return router;
}

function selectAndSlice(publish: unknown, path: string, slice: string | string[] | undefined): unknown {
  if (publish === undefined) throw new ResultError(404, 'the reducer has published nothing yet');
  const selection = selectResult(publish, path);
  if (slice === undefined) return selection.definite ? selection.value : selection.matches;
  if (typeof slice !== 'string') throw new ResultError(400, 'give slice= once');
  const indexers = parseSlice(slice);
  const where = path || '$';
  if (selection.definite) return sliceLeaves(selection.value, indexers, where);
  // an indefinite path slices each match, not the list of matches
  return selection.matches.map((match, i) => sliceLeaves(match, indexers, `${where} (match ${i})`));
}

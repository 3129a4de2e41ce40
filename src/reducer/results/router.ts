/**
 * The reducer's result API: `GET /api/v1/result/{jsonpath}?slice=...` answers with the part of
 * `publish` the path selects, sliced and encoded as the client asks (see respond.ts). As in the
 * original 0.1, the answer is the list of all matches (`result[0]` is a definite path's value);
 * `?single=true` answers a definite path with its value alone. `GET /api/v1/result/pickle` is the
 * original's whole-publish pickle; `GET /api/v1/outline` what `publish` holds, without the arrays
 * (outline.ts); `GET /api/v1/openapi.json` this API described. The HDF5 REST routes are hdf5.ts.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { publishView, readWholePublish } from './remote-publish.js';
import { ResultError } from './result-error.js';
import { type ResultFormatName, respondWithValue } from './respond.js';
import { outlinePublish } from './outline.js';
import { selectResult, type Selection } from './select.js';
import { parseSlice, sliceLeaves } from './slice.js';

export function createResultRouter(getPublish: () => unknown): Router {
  const router = new Router();
  const answer = async (ctx: Context, path: string, { format, single }: { format?: ResultFormatName; single: boolean }) => {
    const publish = getPublish();
    if (publish === undefined) throw new ResultError(404, 'the reducer has published nothing yet');
    const selection = await selectResult(publishView(publish), path);
    respondWithValue(ctx, sliceSelection(selection, path, ctx.query.slice, single), format);
  };
  router.get('/api/v1/result/pickle', (ctx) => answer(ctx, '$', { format: 'pickle', single: true }));
  // a Python reducer's publish is read whole for its outline
  router.get('/api/v1/outline', async (ctx) => { ctx.body = outlinePublish(await readWholePublish(getPublish())); });
  // the description loads zod-openapi and builds its schemas when first asked for, not in every reducer
  router.get('/api/v1/openapi.json', async (ctx) => { ctx.body = (await import('./openapi.js')).reducerOpenApiDocument(); });
  // a RegExp route, because a JSONPath may hold any character, '/' included
  router.get(/^\/api\/v1\/result(?:\/(.*))?$/, async (ctx) => {
    let path: string;
    try {
      path = decodeURIComponent(ctx.captures?.[0] ?? '');
    } catch {
      throw new ResultError(400, `the path ${JSON.stringify(ctx.path)} is not valid percent-encoding`);
    }
    await answer(ctx, path, { single: isTrue(ctx.query.single) });
  });
  return router;
}

function isTrue(flag: unknown): boolean {
  return flag === '' || flag === 'true' || flag === '1';
}

/** the answer: a definite path's value when `single`, else the list of matches, each sliced */
function sliceSelection(selection: Selection, path: string, slice: string | string[] | undefined, single: boolean): unknown {
  if (typeof slice !== 'string' && slice !== undefined) throw new ResultError(400, 'give slice= once');
  const indexers = slice === undefined ? undefined : parseSlice(slice);
  const where = path || '$';
  const sliced = (value: unknown, name: string) => (indexers ? sliceLeaves(value, indexers, name) : value);
  if (selection.definite) {
    if (single) {
      if (!selection.found) throw new ResultError(404, `nothing published at ${JSON.stringify(path)}`);
      return sliced(selection.value, where);
    }
    return selection.found ? [sliced(selection.value, where)] : [];
  }
  // an indefinite path slices each match, not the list of matches
  return selection.matches.map((match, i) => sliced(match, `${where} (match ${i})`));
}

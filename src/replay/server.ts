/**
 * `dranspose replay --port N`: the reducer's result API (JSONPath and HDF5 REST) over the replay's
 * reducer, and the parameters, readable and settable while the replay runs (core.md §6.5).
 */
import type { Server } from 'node:http';
import Router from '@koa/router';
import { createHttpApp, listen } from '../core/http/app.js';
import { readBody } from '../core/http/body.js';
import { HttpError } from '../core/http/errors.js';
import { createLogger } from '../core/logging.js';
import { newVersion, workParameter } from '../core/parameters.js';
import type { ParameterDescription, Parameters, ReducerInstance } from '../core/types.js';
import { createResultRouter } from '../reducer/results/router.js';
import { createHdf5Router } from '../reducer/results/hdf5.js';

export interface ReplayServer {
  port: number;
  /** the reducer and parameters once the replay has made them */
  attach(reducer: ReducerInstance, parameters: Parameters): void;
  close(): Promise<void>;
}

export async function startReplayServer(port: number, descriptions: Map<string, ParameterDescription>, host?: string): Promise<ReplayServer> {
  let reducer: ReducerInstance | undefined;
  let parameters: Parameters | undefined;
  const app = createHttpApp(createLogger('replay-http'));
  const routes = new Router()
    .get('/api/v1/parameter/:name', (ctx) => {
      const parameter = parameters?.[ctx.params.name];
      if (!parameter) throw new HttpError(404, 'Parameter not found');
      ctx.type = 'application/x.bytes';
      ctx.body = parameter.data;
    })
    .post('/api/v1/parameter/:name', async (ctx) => {
      if (!parameters) throw new HttpError(503, 'the replay has not started yet');
      const name = ctx.params.name;
      // replaced in place: the classes hold this very object
      parameters[name] = workParameter(name, await readBody(ctx), newVersion(), descriptions.get(name));
      ctx.body = JSON.stringify('');
      ctx.type = 'application/json';
    });
  const results = createResultRouter(() => reducer?.publish ?? {});
  const hdf5 = createHdf5Router(() => reducer?.publish ?? {});
  app.use(routes.routes()).use(results.routes()).use(results.allowedMethods()).use(hdf5.routes());
  const { server, port: bound } = await listen(app, port, host) as { server: Server; port: number };
  return {
    port: bound,
    attach(r, p) { reducer = r; parameters = p; },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

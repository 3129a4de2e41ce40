/**
 * The OpenAPI documents of the controller and the reducer: valid OpenAPI 3, every documented route
 * answered as documented by a live pipeline, and every route the servers have documented.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { OpenAPIV3_1 } from 'openapi-types';
import type Koa from 'koa';
import type Router from '@koa/router';
import { ROOT, REDIS_URL, startPipeline, uniformSequence, type TestPipeline } from './helpers/pipeline.js';
import { StinsSource } from './helpers/stins-source.js';
import { Controller } from '../src/controller/controller.js';
import { createControllerApp } from '../src/controller/http.js';
import { createResultRouter } from '../src/reducer/results/router.js';

const PAYLOAD = join(ROOT, 'test/payloads/dashboard.ts');
const ECHO = join(ROOT, 'test/payloads/echo.ts');
type Document = OpenAPIV3_1.Document;
type Operation = OpenAPIV3_1.OperationObject;

/** what a valid request to each documented path needs: path parameters and bodies */
const PATH_VALUES: Record<string, string> = { name: 'label', jsonpath: 'sums' };
const BODIES: Record<string, { body: string; type: string }> = {
  '/api/v1/sequence': { body: JSON.stringify(uniformSequence(['detector'], 2)), type: 'application/json' },
  '/api/v1/mapping': { body: JSON.stringify({ detector: [[{ constraint: 0 }], [{ constraint: 1 }]] }), type: 'application/json' },
  '/api/v1/scan': { body: JSON.stringify({ nb_points: 2 }), type: 'application/json' },
  '/api/v1/sardana_hook': { body: JSON.stringify({ streams: ['detector'], scan: { nb_points: 2 } }), type: 'application/json' },
  '/api/v1/parameter/{name}': { body: 'from the API test', type: 'application/octet-stream' },
};
/** the scan-starting POSTs first, then stop, then the rest */
const ORDER = ['/api/v1/sequence', '/api/v1/mapping', '/api/v1/scan', '/api/v1/sardana_hook', '/api/v1/stop'];

function operations(document: Document): { path: string; method: string; operation: Operation }[] {
  const all = Object.entries(document.paths ?? {}).flatMap(([path, item]) => (['get', 'post'] as const)
    .filter((method) => item?.[method]).map((method) => ({ path, method, operation: item![method]! })));
  const rank = (path: string, method: string) => (method === 'post' && ORDER.includes(path) ? ORDER.indexOf(path) : ORDER.length);
  return all.sort((a, b) => rank(a.path, a.method) - rank(b.path, b.method));
}

/** requests each documented operation and checks the answer's status, type and (JSON) body against the document */
async function answerEveryRoute(base: string, raw: Document): Promise<string[]> {
  const document = await SwaggerParser.dereference(structuredClone(raw) as never) as Document;
  const ajv = new Ajv2020({ strict: false, validateFormats: false });
  const checked: string[] = [];
  for (const { path, method, operation } of operations(document)) {
    const url = base + path.replace(/\{(\w+)\}/g, (_, name: string) => PATH_VALUES[name]);
    const body = method === 'post' ? BODIES[path] : undefined;
    const controller = new AbortController();
    const response = await fetch(url, { method: method.toUpperCase(), signal: controller.signal, ...(body ? { body: body.body, headers: { 'content-type': body.type } } : {}) });
    const what = `${method.toUpperCase()} ${path}`;
    const documented = operation.responses?.[String(response.status)] as OpenAPIV3_1.ResponseObject | undefined;
    expect(response.ok, `${what}: ${response.status}`).to.equal(true);
    expect(documented, `${what}: status ${response.status} is documented`).to.not.equal(undefined);
    const type = (response.headers.get('content-type') ?? '').split(';')[0];
    expect(Object.keys(documented!.content ?? {}), `${what}: ${type} is documented`).to.include(type);
    if (type === 'application/json') {
      const value = await response.json();
      const validate = ajv.compile(documented!.content![type].schema as object);
      expect(validate(value), `${what}: ${JSON.stringify(validate.errors)}\n${JSON.stringify(value).slice(0, 500)}`).to.equal(true);
    } else {
      controller.abort();   // a stream (log_stream) stays open
    }
    checked.push(what);
  }
  return checked;
}

/** `/api/v1/parameter/:name` → `/api/v1/parameter/{name}` for every route of every router the app uses */
function registeredRoutes(routers: Router[]): string[] {
  return routers.flatMap((router) => router.stack.flatMap((layer) => layer.methods.filter((m) => m === 'GET' || m === 'POST')
    .map((method) => `${method} ${String(layer.path).replace(/:(\w+)/g, '{$1}')}`)));
}

/** a GET whose path no client library has normalised */
async function rawGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return await new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    }).on('error', reject);
  });
}

function appRouters(app: Koa): Router[] {
  return app.middleware.map((m) => (m as { router?: Router }).router).filter((r): r is Router => r !== undefined);
}

describe('OpenAPI documents', function () {
  this.timeout(120_000);
  let source: StinsSource;
  let pipeline: TestPipeline;
  let controllerDocument: Document;
  let reducerDocument: Document;

  before(async () => {
    source = await StinsSource.bind();
    pipeline = await startPipeline({
      ingesters: [{ name: 'detector-ingester', streams: [{ name: 'detector', protocol: 'stins', upstream: source.endpoint }] }],
      workers: [{ class: `${ECHO}:EchoWorker`, count: 1 }],
      reducer: { class: `${PAYLOAD}:PlotReducer` },
    }, { ingesters: 1, workers: 1 });
    await pipeline.setSequence(uniformSequence(['detector'], 5));
    await source.play({ frames: 5, shape: [8, 8] });
    await pipeline.waitForFinish();
    controllerDocument = await pipeline.api<Document>('/api/v1/openapi.json');
    reducerDocument = await (await fetch(`${pipeline.reducer}/api/v1/openapi.json`)).json() as Document;
  });

  after(async () => {
    await pipeline?.stop();
    source?.close();
  });

  it('are valid OpenAPI 3.1, the reducer\'s the same through the controller\'s proxy', async () => {
    for (const document of [controllerDocument, reducerDocument]) {
      expect(document.openapi).to.equal('3.1.0');
      await SwaggerParser.validate(structuredClone(document) as never);
    }
    expect(await pipeline.api('/api/v1/reducer/openapi.json')).to.deep.equal(reducerDocument);
    const page = await fetch(`${pipeline.controller}/api/v1/docs`);
    expect(page.headers.get('content-type')).to.match(/^text\/html/);
    expect(await page.text()).to.contain('/web/vendor/swagger-ui-bundle.js');
    expect((await fetch(`${pipeline.controller}/web/vendor/swagger-ui-bundle.js`)).status).to.equal(200);
  });

  it('describe the trigger map from the schema the controller parses it with', () => {
    const body = controllerDocument.paths!['/api/v1/sequence']!.post!.requestBody as OpenAPIV3_1.RequestBodyObject;
    const schema = body.content['application/json'].schema as OpenAPIV3_1.SchemaObject;
    expect(Object.keys(schema.properties ?? {})).to.deep.equal(['parts', 'sequence']);
  });

  it('serve the reducer\'s read-only paths through the controller, and nothing else of it', async () => {
    const direct = await (await fetch(`${pipeline.reducer}/api/v1/result/image?single=true&slice=0:2,1:3&format=npy`)).arrayBuffer();
    const proxied = await fetch(`${pipeline.controller}/api/v1/reducer/result/image?single=true&slice=0:2,1:3&format=npy`);
    expect(proxied.headers.get('content-type')).to.equal('application/x-npy');
    expect(Buffer.from(await proxied.arrayBuffer())).to.deep.equal(Buffer.from(direct));
    const missing = await fetch(`${pipeline.controller}/api/v1/reducer/result/nothing_here?single=true`);
    expect(missing.status).to.equal(404);
    expect((await missing.json() as { detail: string }).detail).to.contain('nothing published');
    // sent as written (fetch would resolve the dot segments itself): the proxy resolves them, then refuses
    for (const path of ['/api/v1/reducer/status', '/api/v1/reducer/result/../status', '/api/v1/reducer/result/%2E%2E/%2e%2e/status']) {
      const { status, body } = await rawGet(pipeline.controllerPort, path);
      expect(status, path).to.equal(404);
      expect(JSON.parse(body).detail, path).to.contain('the reducer proxy serves');
    }
    expect((await fetch(`${pipeline.controller}/api/v1/reducer/outline`, { method: 'POST' })).status).to.equal(405);
  });

  it('every route of the controller\'s document is answered as documented', async () => {
    const checked = await answerEveryRoute(pipeline.controller, controllerDocument);
    expect(checked).to.include.members(['GET /api/v1/progress', 'POST /api/v1/sequence', 'GET /api/v1/reducer/result/{jsonpath}', 'GET /metrics']);
    expect(await (await fetch(`${pipeline.controller}/api/v1/parameter/label`)).text()).to.equal('from the API test');
  });

  it('every route of the reducer\'s document is answered as documented', async () => {
    const checked = await answerEveryRoute(pipeline.reducer, reducerDocument);
    expect(checked).to.include('GET /api/v1/outline');
  });

  it('document every GET and POST route the servers have', async () => {
    const controller = new Controller({ pipeline: `t${randomUUID().slice(0, 8)}`, redisUrl: REDIS_URL });
    try {
      const documented = new Set(operations(controllerDocument).map(({ path, method }) => `${method.toUpperCase()} ${path}`));
      // the RegExp routes (the reducer proxy) are documented per path they forward
      const routes = registeredRoutes(appRouters(createControllerApp(controller))).filter((r) => !r.includes('^'));
      expect(routes).to.include.members(['GET /api/v1/progress', 'POST /api/v1/parameter/{name}', 'GET /metrics', 'GET /api/v1/scans']);
      expect(routes.filter((r) => !documented.has(r) && !r.startsWith('GET /web/') && r !== 'GET /favicon.ico')).to.deep.equal([]);
    } finally {
      controller.redis.disconnect();
    }
    const reducerDocumented = new Set(operations(reducerDocument).map(({ path, method }) => `${method.toUpperCase()} ${path}`));
    const reducerRoutes = registeredRoutes([createResultRouter(() => ({}))]).filter((r) => !r.includes('^'));
    expect(reducerRoutes).to.include('GET /api/v1/outline');
    expect(reducerRoutes.filter((r) => !reducerDocumented.has(r))).to.deep.equal([]);
  });
});

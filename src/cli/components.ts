/**
 * The single-part commands: each starts one component of a pipeline in this process. A command
 * loads only its own component, so a worker's heap (which every garbage collection walks) does not
 * carry the controller, the protocols and the HTTP stack.
 */
import type { Command } from 'commander';
import type { Controller } from '../controller/controller.js';
import type { IngesterStream } from '../ingester/ingester.js';
import {
  DEFAULT_CONTROLLER_PORT, DEFAULT_CREDIT, DEFAULT_CREDIT_BYTES, DEFAULT_DEBUG_WORKER_PORT, DEFAULT_HOST, DEFAULT_MAX_DUMP_BYTES, DEFAULT_REDUCER_PORT,
} from '../core/defaults.js';
import { addCommonOptions, addEndpointOptions, collect, componentOptions, parseInteger, type CommonOptions, type EndpointOptions } from './options.js';
import { runUntilSignal } from './lifecycle.js';

/** `NAME:PROTOCOL:URL`, e.g. `xrd:stins:tcp://127.0.0.1:9999` */
async function parseStreamSpec(spec: string): Promise<IngesterStream> {
  const match = /^([A-Za-z0-9_.-]+):([a-z0-9_-]+):(.+)$/.exec(spec);
  if (!match) throw new Error(`--stream ${spec}: expected NAME:PROTOCOL:URL`);
  const { loadProtocol } = await import('../protocols/index.js');
  return { name: match[1], protocol: await loadProtocol(match[2]), upstream: match[3] };
}

function tags(value: string): string[] {
  return value.split(',').map((t) => t.trim()).filter(Boolean);
}

export function registerComponentCommands(program: Command): void {
  addCommonOptions(program.command('controller').description('run the controller and its HTTP API'))
    .option('--port <port>', 'HTTP port', parseInteger, DEFAULT_CONTROLLER_PORT)
    .option('--host <host>', 'HTTP address (0.0.0.0: every interface)', DEFAULT_HOST)
    .option('--credit <events>', 'unfinished events a worker may hold', parseInteger, DEFAULT_CREDIT)
    .option('--credit-bytes <bytes>', 'bytes those events may add up to (credit shrinks for large events)', parseInteger, DEFAULT_CREDIT_BYTES)
    .option('--tango-device <domain/family/member>', 'serve the pipeline\'s Tango device model (REST v1.1) under this name')
    .option('--dump-dir <directory>', 'the only directory the dump_prefix parameter may name (default: no prefix dumps)')
    .action((o: CommonOptions & { port: number; host: string; credit: number; creditBytes: number; tangoDevice?: string; dumpDir?: string }) => runUntilSignal(async () => {
      const [{ startControllerServer }, { PipelineDevice }, { tangoRouter }] = await Promise.all([
        import('../controller/server.js'), import('../controller/tango/model.js'), import('../controller/tango/rest.js')]);
      const routers = o.tangoDevice ? (controller: Controller) => [tangoRouter(new PipelineDevice(controller, { device: o.tangoDevice! }))] : undefined;
      const server = await startControllerServer({ ...componentOptions(o), port: o.port, host: o.host, credit: o.credit, creditBytes: o.creditBytes, dumpDirectory: o.dumpDir, routers });
      return { stop: () => server.close(), ended: server.controller.ended };
    }));

  addEndpointOptions(addCommonOptions(program.command('ingester').description('run an ingester for one or more upstream streams')), 'workers')
    .requiredOption('-n, --name <name>', 'ingester name')
    .requiredOption('-s, --stream <NAME:PROTOCOL:URL>', 'a stream and its upstream (repeatable)', collect)
    .option('--dump <file>', 'append every forwarded event to this .cbors dump')
    .option('--dump-dir <directory>', 'the only directory the dump_prefix parameter may name (default: no prefix dumps)')
    .option('--dump-max-bytes <bytes>', 'bytes one dump file may reach', parseInteger, DEFAULT_MAX_DUMP_BYTES)
    .action((o: CommonOptions & EndpointOptions & { name: string; stream: string[]; dump?: string; dumpDir?: string; dumpMaxBytes: number }) => runUntilSignal(async () => {
      const { Ingester } = await import('../ingester/ingester.js');
      const streams = await Promise.all(o.stream.map(parseStreamSpec));
      const ingester = new Ingester({
        ...componentOptions(o), name: o.name, streams, bind: o.bind, advertise: o.advertise,
        dumpPath: o.dump, dumpDirectory: o.dumpDir, maxDumpBytes: o.dumpMaxBytes,
      });
      await ingester.start();
      return ingester;
    }));

  addCommonOptions(program.command('worker').description('run a worker with a user class'))
    .requiredOption('-n, --name <name>', 'worker name')
    .option('-c, --class <module.ts:Export>', 'worker class (without one, events are acknowledged unprocessed)')
    .option('-t, --tags <a,b>', 'worker tags', tags, ['generic'])
    .action((o: CommonOptions & { name: string; class?: string; tags: string[] }) => runUntilSignal(async () => {
      const [{ Worker }, { loadWorkerClass }] = await Promise.all([import('../worker/worker.js'), import('../core/loader.js')]);
      const worker = new Worker({ ...componentOptions(o), name: o.name, tags: o.tags, workerClass: o.class ? await loadWorkerClass(o.class) : undefined });
      await worker.start();
      return worker;
    }));

  addEndpointOptions(addCommonOptions(program.command('reducer').description('run the reducer with a user class and serve its results')), 'worker results')
    .option('-c, --class <module.ts:Export>', 'reducer class')
    .option('-p, --port <port>', 'HTTP port of the result API', parseInteger, DEFAULT_REDUCER_PORT)
    .option('--host <host>', 'HTTP address (0.0.0.0: every interface)', DEFAULT_HOST)
    .action((o: CommonOptions & EndpointOptions & { class?: string; port: number; host: string }) => runUntilSignal(async () => {
      const [{ Reducer }, { loadReducerClass }] = await Promise.all([import('../reducer/reducer.js'), import('../core/loader.js')]);
      const reducer = new Reducer({
        ...componentOptions(o), reducerClass: o.class ? await loadReducerClass(o.class) : undefined,
        httpPort: o.port, httpHost: o.host, bind: o.bind, advertise: o.advertise,
      });
      await reducer.start();
      return reducer;
    }));

  addCommonOptions(program.command('debug-worker').description('run a worker that keeps the last events for inspection'))
    .requiredOption('-n, --name <name>', 'worker name')
    .option('-t, --tags <a,b>', 'worker tags', tags, ['debug'])
    .option('-p, --port <port>', 'HTTP port', parseInteger, DEFAULT_DEBUG_WORKER_PORT)
    .option('--host <host>', 'HTTP address (0.0.0.0: every interface)', DEFAULT_HOST)
    .option('--keep <n>', 'events kept', parseInteger, 50)
    .action((o: CommonOptions & { name: string; tags: string[]; port: number; host: string; keep: number }) => runUntilSignal(async () => {
      const { DebugWorker } = await import('../worker/debug-worker.js');
      const debug = new DebugWorker({ ...componentOptions(o), name: o.name, tags: o.tags, keep: o.keep, httpPort: o.port, httpHost: o.host });
      await debug.start();
      return debug;
    }));
}

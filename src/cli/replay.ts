/**
 * `dranspose replay`: runs worker and reducer classes (TypeScript or Python) offline on capture
 * files (`.cbors`, `.cbors.gz`, legacy `.pkls`) or a Python source class, with a progress bar;
 * with `--port` it serves the result API (JSONPath and HDF5 REST) and the parameters meanwhile,
 * and with `--keep-alive` afterwards too, until Ctrl-C.
 */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { collect, parseInteger } from './options.js';
import { fail } from './lifecycle.js';

interface ReplayCliOptions {
  worker: string; reducer: string; file: string[]; source?: string; parameters?: string; result?: string;
  workers: number; nworkers?: number; port?: number; keepAlive?: boolean;
}

async function replayCommand(o: ReplayCliOptions): Promise<void> {
  if (!o.file.length && !o.source) throw new Error('give capture files (-f) or a Python source class (--source module:Class)');
  const [{ loadReducerClass, loadWorkerClass }, { encodeJson }, { readWholePublish }, { replay }, { parseReplayInput },
    { startReplayServer }, { mergeDescriptions }, { startProgress }, { closeAllHosts }] = await Promise.all([
    import('../core/loader.js'), import('../reducer/results/json.js'), import('../reducer/results/remote-publish.js'),
    import('../replay/replay.js'), import('../replay/sources.js'), import('../replay/server.js'), import('../core/parameters.js'),
    import('./progress.js'), import('../python/host.js')]);
  const [workerClass, reducerClass] = await Promise.all([loadWorkerClass(o.worker), loadReducerClass(o.reducer)]);
  const server = o.port === undefined ? undefined
    : await startReplayServer(o.port, mergeDescriptions(workerClass.describeParameters?.(), reducerClass.describeParameters?.()));
  if (server) process.stderr.write(`replay: results at http://127.0.0.1:${server.port}/ (HDF5 REST) and /api/v1/result/\n`);
  const progress = startProgress('replay', { unit: 'events' });
  let events = 0;
  const outcome = await replay({
    workerClass, reducerClass, inputs: o.file.map(parseReplayInput), source: o.source, parameterFile: o.parameters,
    workers: o.nworkers ?? o.workers, onEvent: () => progress.update(++events), onStart: (reducer, parameters) => server?.attach(reducer, parameters),
  });
  progress.stop();
  if (o.result) await writeFile(o.result, encodeJson(await readWholePublish(outcome.publish)));
  process.stderr.write(`replay: ${outcome.events} events, ${outcome.results} results, ${outcome.failures.length} failures${o.result ? `, publish written to ${o.result}` : ''}\n`);
  if (outcome.failures.length) process.exitCode = 2;
  if (server && o.keepAlive) {
    process.stderr.write('replay: done; serving results until Ctrl-C\n');
    await new Promise<void>((resolve) => { process.once('SIGINT', resolve); process.once('SIGTERM', resolve); });
  }
  await server?.close();
  closeAllHosts();
}

export function registerReplayCommand(program: Command): void {
  program.command('replay')
    .description('run worker and reducer classes (TypeScript or Python) offline on captures or a Python source class')
    .requiredOption('-w, --worker <class>', 'worker class: path/module.ts:Export, path/file.py:Class or python.module:Class')
    .requiredOption('-r, --reducer <class>', 'reducer class (same forms)')
    .option('-f, --file <[STREAM=][PROTOCOL:]FILE...>', 'dumps (.cbors, .cbors.gz, .pkls), or raw captures with their protocol (repeatable)', collect, [])
    .option('-s, --source <module:Class>', 'a Python source class whose get_source_generators() yield the events')
    .option('-p, --parameters <file>', 'parameters: JSON, CBOR or pickle list of {name, data}')
    .option('--result <file>', "write the reducer's final publish as JSON")
    .option('--workers <n>', 'worker instances', parseInteger, 2)
    .option('--nworkers <n>', 'worker instances (the original\'s name for --workers)', parseInteger)
    .option('--port <port>', 'serve the result API (JSONPath, HDF5 REST) and parameters on this port while replaying', parseInteger)
    .option('--keep-alive', 'with --port: keep serving after the replay, until Ctrl-C')
    .action((o: ReplayCliOptions) => replayCommand(o).catch(fail));
}


/** `dranspose replay`: runs worker and reducer classes offline on capture files. */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { collect, parseInteger } from './options.js';
import { fail } from './lifecycle.js';

interface ReplayCliOptions { worker: string; reducer: string; file: string[]; parameters?: string; result?: string; workers: number }

async function replayCommand(o: ReplayCliOptions): Promise<void> {
  const [{ default: cliProgress }, { loadReducerClass, loadWorkerClass }, { encodeJson }, { replay }, { parseReplayInput }] = await Promise.all([
    import('cli-progress'), import('../core/loader.js'), import('../reducer/results/json.js'), import('../replay/replay.js'), import('../replay/sources.js')]);
  const [workerClass, reducerClass] = await Promise.all([loadWorkerClass(o.worker), loadReducerClass(o.reducer)]);
  const bar = new cliProgress.SingleBar({ format: 'replay {value} events', hideCursor: true, stream: process.stderr }, cliProgress.Presets.shades_classic);
  bar.start(0, 0);
  const outcome = await replay({
    workerClass, reducerClass, inputs: o.file.map(parseReplayInput), parameterFile: o.parameters, workers: o.workers,
    onEvent: () => bar.increment(),
  });
  bar.stop();
  if (o.result) await writeFile(o.result, encodeJson(outcome.publish));
  process.stderr.write(`replay: ${outcome.events} events, ${outcome.results} results, ${outcome.failures.length} failures${o.result ? `, publish written to ${o.result}` : ''}\n`);
  if (outcome.failures.length) process.exitCode = 2;
}

export function registerReplayCommand(program: Command): void {
  program.command('replay')
    .description('run worker and reducer classes offline on .cbors dumps or raw captures')
    .requiredOption('-w, --worker <module.ts:Export>', 'worker class')
    .requiredOption('-r, --reducer <module.ts:Export>', 'reducer class')
    .requiredOption('-f, --file <[STREAM=][PROTOCOL:]FILE>', 'a dump, or a raw capture with its protocol (repeatable)', collect)
    .option('-p, --parameters <file>', 'parameters: JSON, CBOR or pickle list of {name, data}')
    .option('--result <file>', "write the reducer's final publish as JSON")
    .option('--workers <n>', 'worker instances', parseInteger, 2)
    .action((o: ReplayCliOptions) => replayCommand(o).catch(fail));
}

/** The `dranspose` command line (design.md §6.1). */
import { Command } from 'commander';
import { VERSION } from '../core/version.js';
import { registerComponentCommands } from './components.js';
import { registerDemoCommand } from './demo.js';
import { registerReplayCommand } from './replay.js';
import { registerCaptureCommands } from './capture.js';
import { registerTangoCommands } from './tango.js';
import { registerInitCommand } from './init.js';
import { fail, runUntilSignal } from './lifecycle.js';

const program = new Command('dranspose')
  .description('live processing pipeline for beamline detectors: trigger maps, workers and a reducer over Redis and ZeroMQ')
  .version(VERSION)
  .showHelpAfterError();

program.command('run')
  .description('run a whole pipeline on this host from a YAML configuration')
  .argument('<config>', 'pipeline configuration (YAML)')
  .action((path: string) => runUntilSignal(async () => {
    // each command loads what it needs when it runs, so a component's process stays small
    const [{ loadPipelineConfig }, { runPipeline }, { showScanProgress }] = await Promise.all([
      import('../core/config.js'), import('./run.js'), import('./scan-progress.js')]);
    const pipeline = await runPipeline(loadPipelineConfig(path));
    const progress = showScanProgress(pipeline.server.controller);
    return { stop: async () => { progress.stop(); await pipeline.stop(); } };
  }));

registerComponentCommands(program);
registerDemoCommand(program);
registerReplayCommand(program);
registerCaptureCommands(program);
registerTangoCommands(program);
registerInitCommand(program);

program.parseAsync(process.argv).catch(fail);

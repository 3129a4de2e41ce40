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
    const [{ loadPipelineConfig }, { runPipeline }] = await Promise.all([import('../core/config.js'), import('./run.js')]);
    return runPipeline(loadPipelineConfig(path));
  }));

registerComponentCommands(program);
registerDemoCommand(program);
registerReplayCommand(program);
registerCaptureCommands(program);
registerTangoCommands(program);
registerInitCommand(program);

program.parseAsync(process.argv).catch(fail);

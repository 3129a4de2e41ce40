/** `dranspose tango read|write|cmd`: the pipeline's Tango device through the controller's REST API. */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { TangoRestClient } from '../tango/client.js';
import { fail } from './lifecycle.js';
import { DEFAULT_CONTROLLER_PORT, DEFAULT_HOST } from '../core/defaults.js';

interface TangoOptions {
  controller: string;
  device: string;
  tangoHost: string;
}

async function client(options: TangoOptions): Promise<TangoRestClient> {
  const match = /^([^:]+):(\d+)$/.exec(options.tangoHost);
  if (!match) throw new Error(`--tango-host ${options.tangoHost}: expected HOST:PORT`);
  const { TangoRestClient } = await import('../tango/client.js');
  return new TangoRestClient(options.controller, match[1], Number(match[2]), options.device);
}

/** strings as they are (Status spans lines), everything else as JSON */
function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** commander passes the subcommand last: its operands, and the options of `tango` above it */
function run(action: (device: TangoRestClient, operands: string[], options: Record<string, unknown>) => Promise<void>) {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    try {
      await action(await client(command.optsWithGlobals<TangoOptions>()), command.args, command.opts());
    } catch (error) {
      fail(error);
    }
  };
}

export function registerTangoCommands(program: Command): void {
  const tango = program.command('tango')
    .description("read, write and command the pipeline's Tango device (through the controller's Tango REST API)")
    .option('--controller <url>', 'controller URL', `http://${DEFAULT_HOST}:${DEFAULT_CONTROLLER_PORT}`)
    .requiredOption('--device <domain/family/member>', 'Tango device name of the pipeline (tango.device of its configuration)')
    .option('--tango-host <host:port>', 'Tango host of the REST paths (the controller accepts any)', 'localhost:10000');

  tango.command('read')
    .description('read attributes (all of them when none is named)')
    .argument('[attributes...]', 'attribute names')
    .action(run(async (device, operands) => {
      const names = operands.length ? operands : (await device.attributes()).map((a) => a.name);
      let failed = false;
      const { isFailure } = await import('../tango/client.js');
      for (const element of await device.readMany(names)) {
        if (isFailure(element)) {
          failed = true;
          process.stdout.write(`${element.name ?? '?'}: ${element.errors[0].reason}: ${element.errors[0].description}\n`);
        } else {
          process.stdout.write(`${element.name} = ${show(element.value)}\n`);
        }
      }
      if (failed) process.exitCode = 1;
    }));

  tango.command('write')
    .description('write an attribute and print the value read back (--file: a binary parameter gets the bytes of a file read here)')
    .argument('<attribute>')
    .argument('<value>', 'the value, or with --file the path of a local file')
    .option('--file', 'read VALUE as a local file and send its bytes')
    .action(run(async (device, [attribute, value], options) => {
      const reading = options.file ? await device.writeBytes(attribute!, await readFile(value!)) : await device.write(attribute!, value!);
      process.stdout.write(`${reading.name} = ${show(reading.value)}\n`);
    }));

  tango.command('cmd')
    .description('run a command (SetSequence takes the trigger map JSON, Stop nothing) and print its output')
    .argument('<name>')
    .argument('[input]')
    .action(run(async (device, [name, input]) => {
      const result = await device.command(name, input);
      if (result.output !== undefined) process.stdout.write(`${show(result.output)}\n`);
    }));
}

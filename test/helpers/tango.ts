/** PyTango from tests: inline scripts in Debian's Python, change events through tango/tests/subscribe.py, the hooks' unittests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect } from 'chai';
import { ROOT, waitFor } from './pipeline.js';
import { PYTHON, run, stopProcess } from './process.js';

export const BRIDGE = join(ROOT, 'tango/dranspose_device.py');
const SUBSCRIBE = join(ROOT, 'tango/tests/subscribe.py');

/** what every inline script starts with: a proxy of argv[1] and helpers that turn results into JSON */
const PRELUDE = `
import json, sys, time, tango
dp = tango.DeviceProxy(sys.argv[1])
def plain(v):
    if type(v).__name__ == "DevState": return str(v)  # a Boost enum: isinstance does not see it
    return v.tolist() if hasattr(v, "tolist") else v
def attempt(f):
    try: return {"ok": plain(f())}
    except tango.DevFailed as e: return {"reason": e.args[0].reason, "desc": e.args[0].desc}
`;

/** runs a script in Debian's Python with argv[1] = the device; its last output line is JSON */
export async function python<T = unknown>(script: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<T> {
  const { stdout } = await run(PYTHON, ['-c', PRELUDE + script, ...args], { timeout: 60_000, env });
  return JSON.parse(stdout.trim().split('\n').pop()!) as T;
}

export interface TangoEvent { attr: string; value?: unknown; quality?: string; error?: string; t: number }

/** change events of a device, as tango/tests/subscribe.py reports them */
export class EventLog {
  readonly events: TangoEvent[] = [];
  private constructor(private readonly child: ChildProcess) {}

  static async start(device: string, attributes: string[], env: NodeJS.ProcessEnv = process.env): Promise<EventLog> {
    const child = spawn(PYTHON, [SUBSCRIBE, device, ...attributes], { stdio: ['pipe', 'pipe', 'pipe'], env });
    const log = new EventLog(child);
    const stderr: string[] = [];
    child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
    let ready = false;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const parsed = JSON.parse(line);
      if (parsed.ready) ready = true;
      else log.events.push(parsed);
    });
    await waitFor('the event subscriber', async () => ready, 20_000, 50)
      .catch((error) => { child.kill('SIGTERM'); throw new Error(`${error.message}\n${stderr.join('')}`); });
    return log;
  }

  of(attr: string): TangoEvent[] {
    return this.events.filter((e) => e.attr === attr);
  }

  errors(): TangoEvent[] {
    return this.events.filter((e) => e.error !== undefined);
  }

  async until(what: string, probe: () => boolean, timeoutMs = 20_000): Promise<void> {
    await waitFor(`${what}; events: ${JSON.stringify(this.events.slice(-20))}`, async () => probe(), timeoutMs, 20);
  }

  /** unsubscribes and exits: closes the subscriber's stdin, and kills it if it has not exited within 3 s */
  async stop(): Promise<void> {
    await stopProcess(this.child, { ask: (child) => child.stdin!.end(), graceMs: 3000 });
  }
}

/** Tango delivers the first change after a subscription twice: compare values, not deliveries */
export function changes(events: TangoEvent[]): unknown[] {
  return events.map((e) => e.value).filter((v, i, all) => i === 0 || JSON.stringify(v) !== JSON.stringify(all[i - 1]));
}

/** Runs the unittests in `dir` in Debian's Python: all pass, none is skipped, and there are at least `minimumTests`. */
export async function pythonUnittests(dir: string, minimumTests: number): Promise<void> {
  const { stderr } = await run(PYTHON, ['-B', '-m', 'unittest', 'discover', '-s', dir, '-v']);
  expect(stderr).to.match(/\nRan \d+ tests in [\d.]+s\n\nOK\n$/);
  expect(Number(/\nRan (\d+) tests/.exec(stderr)![1]), 'tests run').to.be.at.least(minimumTests);
  expect(stderr).not.to.match(/skipped/i);
}

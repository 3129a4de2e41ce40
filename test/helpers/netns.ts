/**
 * Hosts on this machine made of Linux network namespaces: each host a namespace with its loopback
 * and one veth to a bridge in a switch namespace of its own, addressed in a private subnet. The
 * machine's own namespace is left untouched (both veth ends are made inside the namespaces), and
 * names are unique per run, so runs side by side do not meet.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { run, stopProcess } from './process.js';

const SUBNET = '10.231.0';

/** why namespaces cannot be made here, or undefined when they can */
export async function netnsRefusal(): Promise<string | undefined> {
  const probe = `drprobe${randomBytes(3).toString('hex')}`;
  try {
    await run('ip', ['netns', 'add', probe]);
  } catch (error) {
    return `ip netns add is refused here: ${((error as { stderr?: string }).stderr || (error as Error).message).trim()}`;
  }
  await run('ip', ['netns', 'del', probe]);
  return undefined;
}

export class NetworkLab {
  /** host name → its address */
  readonly addresses: Record<string, string> = {};
  private readonly namespaces: string[] = [];
  private readonly children: ChildProcess[] = [];
  private readonly id = `dr${randomBytes(3).toString('hex')}`;
  /** a run cut short (Ctrl-C, a timeout's SIGTERM) leaves no process or namespace behind */
  private readonly onExit = () => this.destroySync();
  private readonly onSignal = (signal: NodeJS.Signals) => {
    this.destroySync();
    process.kill(process.pid, signal);
  };

  constructor() {
    process.once('exit', this.onExit);
    process.once('SIGINT', this.onSignal);
    process.once('SIGTERM', this.onSignal);
  }

  private namespace(host: string): string {
    return `${this.id}-${host}`;
  }

  private async ip(...args: string[]): Promise<void> {
    await run('ip', args);
  }

  /** the hosts, numbered in order from .1 of the test subnet, on one switch */
  async build(hosts: string[]): Promise<void> {
    const sw = this.namespace('switch');
    await this.ip('netns', 'add', sw);
    this.namespaces.push(sw);
    await this.ip('-n', sw, 'link', 'add', 'br0', 'type', 'bridge');
    await this.ip('-n', sw, 'link', 'set', 'br0', 'up');
    for (const [index, host] of hosts.entries()) {
      const ns = this.namespace(host);
      await this.ip('netns', 'add', ns);
      this.namespaces.push(ns);
      const port = `p${index}`;
      await this.ip('link', 'add', 'eth0', 'netns', ns, 'type', 'veth', 'peer', 'name', port, 'netns', sw);
      const address = `${SUBNET}.${index + 1}`;
      await this.ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
      await this.ip('-n', ns, 'link', 'set', 'eth0', 'up');
      await this.ip('-n', ns, 'link', 'set', 'lo', 'up');
      await this.ip('-n', sw, 'link', 'set', port, 'master', 'br0');
      await this.ip('-n', sw, 'link', 'set', port, 'up');
      this.addresses[host] = address;
    }
  }

  /** a long-running process on a host, stopped by `destroy` */
  start(host: string, command: string, args: string[], output: string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.namespace(host), command, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const tag = `[${host}] `;
    child.stdout!.on('data', (d: Buffer) => output.push(tag + d.toString()));
    child.stderr!.on('data', (d: Buffer) => output.push(tag + d.toString()));
    this.children.push(child);
    return child;
  }

  /** a command on a host, to its end */
  async run(host: string, command: string, args: string[], timeout = 60_000): Promise<{ stdout: string; stderr: string }> {
    return await run('ip', ['netns', 'exec', this.namespace(host), command, ...args], { timeout, maxBuffer: 64 << 20 });
  }

  /** an HTTP request made from a host: status and body */
  async fetch(host: string, url: string, init: { method?: string; body?: string } = {}): Promise<{ status: number; body: string }> {
    const script = 'const [url, init] = JSON.parse(process.argv[1]); const r = await fetch(url, init); process.stdout.write(JSON.stringify({ status: r.status, body: await r.text() }));';
    const headers = init.body === undefined ? {} : { 'content-type': 'application/json' };
    const { stdout } = await this.run(host, process.execPath, ['--input-type=module', '-e', script, JSON.stringify([url, { ...init, headers }])], 20_000);
    return JSON.parse(stdout);
  }

  /** stops the processes, the last started first (parts before the Redis they say goodbye to), and removes the hosts */
  async destroy(): Promise<void> {
    for (const child of [...this.children].reverse()) await stopProcess(child, { graceMs: 10_000 });
    this.destroySync();
  }

  private destroySync(): void {
    process.off('exit', this.onExit);
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
    for (const child of this.children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const ns of this.namespaces.splice(0).reverse()) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
  }
}

/**
 * `run` and `demo` need a Redis: the configured one if it answers. Only when none was configured
 * (the default URL) and nothing answers there, a private redis-server is started for this run and
 * stopped at exit, and the log says so; a configured Redis that does not answer is an error, never
 * silently replaced.
 */
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'winston';
import { DEFAULT_REDIS_URL } from '../core/redis.js';

async function answers(url: string, timeoutMs = 1000): Promise<boolean> {
  const parsed = new URL(url);
  return await new Promise((resolve) => {
    const socket = net.connect(Number(parsed.port || 6379), parsed.hostname);
    const done = (ok: boolean) => { socket.destroy(); resolve(ok); };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG') || data.toString().startsWith('-NOAUTH')));
  });
}

/** a TCP port on 127.0.0.1 that nothing listens on now */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A redis-server of this process's own on a free port, keeping nothing (no saves, a temporary
 * directory), stopped at exit; resolves once it answers.
 */
export async function startRedisServer(): Promise<{ url: string; pid: number; stop(): void }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'dranspose-redis-'));
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const stop = () => { server.kill(); rmSync(dir, { recursive: true, force: true }); };
  for (let i = 0; i < 50 && !(await answers(url, 200)); i++) await new Promise((r) => setTimeout(r, 100));
  if (!(await answers(url))) {
    stop();
    throw new Error(`a private redis-server on port ${port} did not start`);
  }
  process.once('exit', stop);
  return { url, pid: server.pid!, stop };
}

export interface RedisHandle {
  url: string;
  /** true when this process started the server */
  private: boolean;
  stop(): void;
}

export async function ensureRedis(url: string, logger: Logger): Promise<RedisHandle> {
  if (await answers(url)) return { url, private: false, stop: () => undefined };
  if (url !== DEFAULT_REDIS_URL) {
    throw new Error(`no Redis answers at ${url} (the configured one); start it, or leave the Redis URL unset to use a private one`);
  }
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw new Error(`no Redis answers at ${url} and redis-server is not installed; install it with: apt-get install -y redis-server (or set DRANSPOSE_REDIS_URL)`);
  }
  const server = await startRedisServer().catch((error: Error) => {
    throw new Error(`no Redis answers at ${url} and ${error.message}`);
  });
  logger.warn(`no Redis answers at ${url}: started a private redis-server at ${server.url} for this run (it keeps nothing after it)`);
  return { url: server.url, private: true, stop: server.stop };
}

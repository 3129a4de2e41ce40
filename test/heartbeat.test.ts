/**
 * The heartbeat thread, both kinds (the native addon's plain thread, and the worker thread used
 * without it): it keeps beating while the main thread is blocked, says how long it has been and
 * which event user code is on, and removes its field when stopped.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { loadNativeAddon } from '../src/core/native-addon.js';
import { REDIS_URL, deletePrefix, waitFor } from './helpers/pipeline.js';
import { stopProcess } from './helpers/process.js';

const HEARTBEAT = new URL('../src/core/liveness/heartbeat.ts', import.meta.url).href;

/** a child that beats every `intervalMs`, blocks its main thread on event 7 when told, then stops when told */
function beatingChild(key: string, env: NodeJS.ProcessEnv, intervalMs = 100): { child: ChildProcess; lines: AsyncIterator<string> } {
  const script = `
    import { Heartbeat } from ${JSON.stringify(HEARTBEAT)};
    import { createInterface } from 'node:readline';
    const heartbeat = new Heartbeat({ redisUrl: ${JSON.stringify(REDIS_URL)}, key: ${JSON.stringify(key)}, field: 'worker:w', instance: 'i1', intervalMs: ${intervalMs} });
    console.log('started');
    for await (const line of createInterface({ input: process.stdin })) {
      if (line === 'block') {
        heartbeat.processing = 7;
        console.log('blocking');
        // user code that holds the event loop until the test has seen what it waits for
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
      }
      if (line === 'stop') {
        await heartbeat.stop();
        console.log('stopped');
      }
    }
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  return { child, lines: createInterface({ input: child.stdout! })[Symbol.asyncIterator]() };
}

const native = loadNativeAddon<{ heartbeatStart?: unknown }>().addon?.heartbeatStart !== undefined;
const kinds = [
  ...(native ? [{ kind: 'the native addon\'s thread', env: {} }] : []),
  { kind: 'the worker thread (DRANSPOSE_NATIVE=0)', env: { DRANSPOSE_NATIVE: '0' } },
];

for (const { kind, env } of kinds) {
  describe(`heartbeat: ${kind}`, function () {
    const prefix = `dranspose:test-heartbeat-${randomUUID()}:`;
    const key = `${prefix}alive`;
    let redis: Redis;
    let child: ChildProcess | undefined;

    before(() => { redis = new Redis(REDIS_URL); });
    afterEach(async () => { await stopProcess(child); await deletePrefix(prefix); });
    after(() => redis.disconnect());

    it('beats while the main thread is blocked, with how long it has been and the event it is on; a stop removes the field', async () => {
      const started = beatingChild(key, { ...process.env, ...env });
      child = started.child;
      expect((await started.lines.next()).value).to.equal('started');
      const beat = async () => {
        const value = await redis.hget(key, 'worker:w');
        if (!value) return undefined;
        const [instance, count, busyMs, event] = value.split(' ');
        return { instance, count: Number(count), busyMs: Number(busyMs), event: Number(event) };
      };
      const first = await waitFor('a first beat', beat);
      expect(first).to.include({ instance: 'i1', event: -1 });
      child.stdin!.write('block\n');
      expect((await started.lines.next()).value).to.equal('blocking');
      // the main thread does not run again until the child is killed: these beats come from the thread
      const blocked = await waitFor('beats saying the main thread has been busy for over a second', async () => {
        const now = await beat();
        return now && now.busyMs > 1000 ? now : undefined;
      }, 30_000, 50);
      expect(blocked.event, 'the event user code is on').to.equal(7);
      expect(blocked.count).to.be.greaterThan(first.count + 5);
      await stopProcess(child, { graceMs: 2000 });
      await redis.del(key);

      // a part that stops cleanly says so at once
      const stopping = beatingChild(key, { ...process.env, ...env });
      child = stopping.child;
      expect((await stopping.lines.next()).value).to.equal('started');
      await waitFor('a first beat', beat);
      child.stdin!.write('stop\n');
      expect((await stopping.lines.next()).value).to.equal('stopped');
      expect(await redis.hget(key, 'worker:w')).to.equal(null);
    });

    it('wakes from its sleep between beats to announce an event that stays in user code', async () => {
      // one beat on connecting, the next a minute later: event 7 can only come from the watch
      const started = beatingChild(key, { ...process.env, ...env }, 60_000);
      child = started.child;
      expect((await started.lines.next()).value).to.equal('started');
      const event = async () => {
        const value = await redis.hget(key, 'worker:w');
        return value ? Number(value.split(' ')[3]) : undefined;
      };
      expect(await waitFor('a first beat', event)).to.equal(-1);
      child.stdin!.write('block\n');
      expect((await started.lines.next()).value).to.equal('blocking');
      await waitFor('the event announced', async () => ((await event()) === 7 ? true : undefined), 30_000, 20);
    });
  });
}

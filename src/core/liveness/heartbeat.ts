/**
 * A component's heartbeat, beaten from a thread of its own: user code that keeps the event loop
 * busy for seconds (a slow analysis, a long synchronous finish) must not make the controller think
 * the process died. The thread writes `HSET <alive> <field> "<instance> <count> <busy ms> <event>"`
 * every interval, where `busy ms` is how long the main thread's event loop has not ticked and
 * `event` the event user code is processing (-1: none), so that the controller knows which event a
 * worker died on. An event that stays in user code for a watch period is announced at once. A
 * thread whose watches found no event for a while stops watching and sleeps until its next beat;
 * the main thread wakes it when an event starts (an idle part's thread wakes once a beat, not every
 * watch period; a busy one is woken at most once per IDLE_WATCHES watch periods).
 *
 * The thread talks RESP over a plain socket, one command per beat (a client library would only add
 * start-up time and memory), and sends what this side prepared: the greeting (AUTH, SELECT), the
 * HSET up to its value, the goodbye (HDEL). It is a plain thread of the native addon
 * (native/src/heartbeat.c); where the addon is not built, Redis is reached over TLS or
 * `DRANSPOSE_NATIVE=0`, a worker thread. That one costs the part about 9 MB of resident memory
 * (an isolate with node's bootstrap), the plain thread next to nothing. The worker thread runs an
 * eval'd script: a thread does not inherit the TypeScript loader of the main thread, and this way
 * it loads no module but node's own.
 */
import { Worker } from 'node:worker_threads';
import { loadNativeAddon } from '../native-addon.js';

export interface HeartbeatOptions {
  redisUrl: string;
  /** the `alive` hash of the pipeline */
  key: string;
  /** `<kind>:<name>` */
  field: string;
  instance: string;
  intervalMs: number;
  /** Redis became unreachable (true) or reachable again (false), as the thread sees it */
  onRedisDown?: (down: boolean, reason: string) => void;
}

/** what either thread sends, prepared here, and where */
interface BeatPlan {
  host: string;
  port: number;
  tls: boolean;
  /** AUTH and SELECT, before the first beat of every connection (may be empty) */
  hello: Buffer;
  /** `HSET <key> <field>` up to the value */
  prefix: Buffer;
  /** `HDEL <key> <field>` */
  bye: Buffer;
  instance: string;
  intervalMs: number;
  /** an event in user code this long is announced at once, not at the next beat */
  watchMs: number;
  /** after this many watches in a row without an event in user code, the thread sleeps until its next beat */
  idleWatches: number;
  /** when the main thread's event loop last ticked (ms since the epoch) */
  tick: Float64Array;
  /** the event user code works on, -1: none */
  processing: Int32Array;
  /** 1 while the thread sleeps until its next beat, not watching: an event that starts must wake it */
  sleeping: Int32Array;
}

/** the native addon's heartbeat (native/src/heartbeat.c) */
interface HeartbeatAddon {
  heartbeatStart(plan: BeatPlan & { onRedis: (down: boolean, reason: string) => void }): object;
  heartbeatWake(handle: object): void;
  heartbeatStop(handle: object): void;
}

interface BeatThread {
  /** an event started while the thread sleeps */
  wake(): void;
  stop(): Promise<void>;
}

/** both threads' watch period (BeatPlan.watchMs) */
const WATCH_MS = 10;
/** BeatPlan.idleWatches: 100 ms without an event */
const IDLE_WATCHES = 10;

const resp = (...words: string[]) => Buffer.from(`*${words.length}\r\n${words.map((w) => `$${Buffer.byteLength(w)}\r\n${w}\r\n`).join('')}`);

function plan(options: HeartbeatOptions, tick: Float64Array, processing: Int32Array, sleeping: Int32Array): BeatPlan {
  const url = new URL(options.redisUrl);
  const db = Number(url.pathname.slice(1) || 0);
  const password = decodeURIComponent(url.password);
  const hello = [
    ...(url.password ? [url.username ? resp('AUTH', decodeURIComponent(url.username), password) : resp('AUTH', password)] : []),
    ...(db ? [resp('SELECT', String(db))] : []),
  ];
  // the command with a placeholder value, cut before the value's length
  const withValue = resp('HSET', options.key, options.field, '');
  return {
    host: url.hostname || '127.0.0.1', port: Number(url.port || 6379), tls: url.protocol === 'rediss:',
    hello: Buffer.concat(hello), prefix: withValue.subarray(0, withValue.length - '$0\r\n\r\n'.length), bye: resp('HDEL', options.key, options.field),
    instance: options.instance, intervalMs: options.intervalMs, watchMs: WATCH_MS, idleWatches: IDLE_WATCHES, tick, processing, sleeping,
  };
}

/** The worker thread's whole program; it must not refer to anything outside itself. */
function heartbeatThread(): void {
  const { workerData, parentPort } = require('node:worker_threads');
  const net = require('node:net');
  const tls = require('node:tls');
  const { host, port, tls: secure, instance, intervalMs, watchMs, idleWatches, tick } = workerData;
  const { processing, sleeping }: { processing: Int32Array; sleeping: Int32Array } = workerData;
  const [hello, prefix, bye] = [workerData.hello, workerData.prefix, workerData.bye].map((bytes: Uint8Array) => Buffer.from(bytes));
  let socket: import('node:net').Socket | undefined;
  let connected = false;
  let down = false;
  let count = 0;
  let stopping = false;

  const report = (isDown: boolean, reason: string) => {
    if (isDown === down) return;
    down = isDown;
    parentPort.postMessage({ type: 'redis', down: isDown, reason });
  };

  const connect = () => {
    const s = secure ? tls.connect({ host, port, servername: host }) : net.connect({ host, port });
    socket = s;
    s.setNoDelay(true);
    s.on(secure ? 'secureConnect' : 'connect', () => {
      connected = true;
      if (hello.length) s.write(hello);
      report(false, 'reconnected');
      beat();
    });
    // replies are not needed: a beat that did not land is simply the next one's job
    s.on('data', () => undefined);
    s.on('error', (error: Error) => report(true, error.message));
    s.on('close', () => {
      connected = false;
      if (socket === s) socket = undefined;
      if (!stopping) report(true, 'connection closed');
    });
  };

  const beat = () => {
    if (!socket) { connect(); return; }
    if (!connected || socket.writableLength > 4096) return;
    count += 1;
    const busy = Math.max(0, Date.now() - tick[0]);
    const value = `${instance} ${count} ${Math.round(busy)} ${processing[0]}`;
    socket.write(Buffer.concat([prefix, Buffer.from(`$${Buffer.byteLength(value)}\r\n${value}\r\n`)]));
  };

  const timer = setInterval(beat, intervalMs);
  connect();
  // an event that stays in user code for a while is announced at once, not at the next beat: a
  // worker that dies on it then says which (the main thread only writes the number). With none,
  // the watch waits for the main thread to start one (see BeatPlan.sleeping)
  const waitAsync = (Atomics as unknown as { waitAsync(array: Int32Array, index: number, value: number): { async: boolean; value: unknown } }).waitAsync;
  let seen = -1;
  let announced = -1;
  let idle = 0;
  let watchTimer: ReturnType<typeof setTimeout> | undefined;
  const watch = () => {
    if (stopping) return;
    const event = Atomics.load(processing, 0);
    if (event >= 0 && event === seen && event !== announced) {
      announced = event;
      beat();
    }
    seen = event;
    idle = event < 0 ? idle + 1 : 0;
    if (idle < idleWatches) {
      watchTimer = setTimeout(watch, watchMs);
      return;
    }
    // say it sleeps, then look again: an event started meanwhile is seen here or finds the flag
    Atomics.store(sleeping, 0, 1);
    if (Atomics.load(processing, 0) >= 0) {
      Atomics.store(sleeping, 0, 0);
      watchTimer = setTimeout(watch, watchMs);
      return;
    }
    const waiting = waitAsync(sleeping, 0, 1);
    const woken = () => {
      idle = 0;
      watch();
    };
    if (waiting.async) (waiting.value as Promise<unknown>).then(woken);
    else setImmediate(woken);
  };
  watch();
  parentPort.on('message', (message: { type: string }) => {
    if (message.type !== 'stop') return;
    stopping = true;
    clearInterval(timer);
    clearTimeout(watchTimer);
    // a watch waiting for an event gives up
    Atomics.store(sleeping, 0, 0);
    Atomics.notify(sleeping, 0);
    const done = () => { socket?.destroy(); parentPort.close(); };
    // a clean stop says so at once, instead of letting the controller wait for silence
    if (socket && connected) socket.write(bye, done);
    else done();
    setTimeout(done, 500).unref();
  });
}

function workerThread(beats: BeatPlan, onRedisDown: HeartbeatOptions['onRedisDown']): BeatThread {
  // `__name`: the helper esbuild (tsx, for the tests) wraps named functions in; tsc emits none.
  // None of node's flags: the script is CommonJS and needs no loader, even under --input-type or --import
  const thread = new Worker(`var __name = (f) => f; (${heartbeatThread.toString()})()`, { eval: true, workerData: beats, execArgv: [] });
  thread.unref();
  thread.on('message', (message: { type: string; down: boolean; reason: string }) => {
    if (message.type === 'redis') onRedisDown?.(message.down, message.reason);
  });
  const exited = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
  return {
    wake() { Atomics.notify(beats.sleeping, 0); },
    async stop() {
      thread.postMessage({ type: 'stop' });
      await Promise.race([exited, new Promise((r) => setTimeout(r, 1000))]);
      await thread.terminate();
    },
  };
}

/** `tls` is never set here (a TLS Redis gets the worker thread); the thread reads only what it knows */
function nativeThread(addon: HeartbeatAddon, beats: BeatPlan, onRedisDown: HeartbeatOptions['onRedisDown']): BeatThread {
  const handle = addon.heartbeatStart({ ...beats, onRedis: (down, reason) => onRedisDown?.(down, reason) });
  return { wake() { addon.heartbeatWake(handle); }, async stop() { addon.heartbeatStop(handle); } };
}

export class Heartbeat {
  private readonly thread: BeatThread;
  private readonly tick = new Float64Array(new SharedArrayBuffer(8));
  private readonly processingEvent = new Int32Array(new SharedArrayBuffer(4));
  private readonly sleeping = new Int32Array(new SharedArrayBuffer(4));
  private readonly ticker: NodeJS.Timeout;

  constructor(options: HeartbeatOptions) {
    this.tick[0] = Date.now();
    this.processingEvent[0] = -1;
    // the main thread's sign of life: how long ago its event loop last ran this
    this.ticker = setInterval(() => { this.tick[0] = Date.now(); }, 100);
    this.ticker.unref();
    const beats = plan(options, this.tick, this.processingEvent, this.sleeping);
    const addon = process.env.DRANSPOSE_NATIVE === '0' || beats.tls ? undefined : loadNativeAddon<HeartbeatAddon>().addon;
    this.thread = addon ? nativeThread(addon, beats, options.onRedisDown) : workerThread(beats, options.onRedisDown);
  }

  /** the event user code works on now (-1: none); it goes out with every beat, and at once when it stays long */
  set processing(event: number) {
    // stored, then the thread's flag loaded, both sequentially consistent: see may_sleep in heartbeat.c
    Atomics.store(this.processingEvent, 0, event);
    if (event >= 0 && Atomics.compareExchange(this.sleeping, 0, 1, 0) === 1) this.thread.wake();
  }

  /** stops beating and removes the field, so the controller sees a clean leave at once */
  async stop(): Promise<void> {
    clearInterval(this.ticker);
    await this.thread.stop();
  }
}

/**
 * A component's heartbeat, beaten from a thread of its own: user code that keeps the event loop
 * busy for seconds (a slow analysis, a long synchronous finish) must not make the controller think
 * the process died. The thread writes `HSET <alive> <field> "<instance> <count> <busy ms> <event>"`
 * every interval, where `busy ms` is how long the main thread's event loop has not ticked and
 * `event` the event user code is processing (-1: none), so that the controller knows which event a
 * worker died on.
 *
 * The thread talks RESP over a plain socket: it runs as an eval'd script (a thread does not inherit
 * the TypeScript loader of the main thread, and this way it loads no module but node's own), and it
 * sends one command per beat, so a client library would only add start-up time and memory.
 */
import { Worker } from 'node:worker_threads';

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

/** The thread's whole program; it must not refer to anything outside itself. */
function heartbeatThread(): void {
  const { workerData, parentPort } = require('node:worker_threads');
  const net = require('node:net');
  const tls = require('node:tls');
  const { redisUrl, key, field, instance, intervalMs, tick } = workerData;
  const WATCH_MS = 10;
  const loopTick = new Float64Array(tick);
  const processing = new Int32Array(workerData.processing);
  const url = new URL(redisUrl);
  const db = Number(url.pathname.slice(1) || 0);
  const resp = (...words: string[]) => `*${words.length}\r\n${words.map((w) => `$${Buffer.byteLength(w)}\r\n${w}\r\n`).join('')}`;
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
    const options = { host: url.hostname || '127.0.0.1', port: Number(url.port || 6379) };
    const s = url.protocol === 'rediss:' ? tls.connect({ ...options, servername: options.host }) : net.connect(options);
    socket = s;
    s.setNoDelay(true);
    s.on(url.protocol === 'rediss:' ? 'secureConnect' : 'connect', () => {
      connected = true;
      let hello = '';
      if (url.password) hello += url.username ? resp('AUTH', decodeURIComponent(url.username), decodeURIComponent(url.password)) : resp('AUTH', decodeURIComponent(url.password));
      if (db) hello += resp('SELECT', String(db));
      if (hello) s.write(hello);
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
    const busy = Math.max(0, Date.now() - loopTick[0]);
    socket.write(resp('HSET', key, field, `${instance} ${count} ${Math.round(busy)} ${processing[0]}`));
  };

  const timer = setInterval(beat, intervalMs);
  connect();
  // an event that stays in user code for a while is announced at once, not at the next beat: a
  // worker that dies on it then says which (the main thread only writes the number)
  let seen = -1;
  let announced = -1;
  const watch = setInterval(() => {
    const event = processing[0];
    if (event >= 0 && event === seen && event !== announced) {
      announced = event;
      beat();
    }
    seen = event;
  }, WATCH_MS);
  parentPort.on('message', (message: { type: string }) => {
    if (message.type !== 'stop') return;
    stopping = true;
    clearInterval(timer);
    clearInterval(watch);
    const done = () => { socket?.destroy(); parentPort.close(); };
    // a clean stop says so at once, instead of letting the controller wait for silence
    if (socket && connected) socket.write(resp('HDEL', key, field), done);
    else done();
    setTimeout(done, 500).unref();
  });
}

export class Heartbeat {
  private readonly thread: Worker;
  private readonly tick = new Float64Array(new SharedArrayBuffer(8));
  private readonly processingEvent = new Int32Array(new SharedArrayBuffer(4));
  private readonly ticker: NodeJS.Timeout;
  private readonly exited: Promise<void>;

  constructor(options: HeartbeatOptions) {
    this.tick[0] = Date.now();
    this.processingEvent[0] = -1;
    // the main thread's sign of life: how long ago its event loop last ran this
    this.ticker = setInterval(() => { this.tick[0] = Date.now(); }, 100);
    this.ticker.unref();
    const { onRedisDown, ...data } = options;
    // `__name`: the helper esbuild (tsx, for the tests) wraps named functions in; tsc emits none
    this.thread = new Worker(`var __name = (f) => f; (${heartbeatThread.toString()})()`, { eval: true, workerData: { ...data, tick: this.tick.buffer, processing: this.processingEvent.buffer } });
    this.thread.unref();
    this.thread.on('message', (message: { type: string; down: boolean; reason: string }) => {
      if (message.type === 'redis') onRedisDown?.(message.down, message.reason);
    });
    this.exited = new Promise((resolve) => this.thread.once('exit', () => resolve()));
  }

  /** the event user code works on now (-1: none); it goes out with every beat, and at once when it stays long */
  set processing(event: number) {
    this.processingEvent[0] = event;
  }

  /** stops beating and removes the field, so the controller sees a clean leave at once */
  async stop(): Promise<void> {
    clearInterval(this.ticker);
    this.thread.postMessage({ type: 'stop' });
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 1000))]);
    await this.thread.terminate();
  }
}

/**
 * The benchmark's detector, in a process of its own: binds a PUSH socket, prints its endpoint,
 * then for every `send <kind> <payload> <events> <rate>` line on stdin sends a STINS series (kind
 * `bytes`: uncompressed images of `payload` bytes; `bslz4`: 512×512 uint32 compressed images) and
 * prints `sent <start time>`. A rate of 0 sends as fast as the receiver takes them.
 */
import { createInterface } from 'node:readline';
import * as zmq from 'zeromq';
import { bslz4FrameSet, frameSet, now, type FrameSet } from './frames.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const socket = new zmq.Push({ sendHighWaterMark: 10_000 });
await socket.bind('tcp://127.0.0.1:*');
process.stdout.write(`endpoint ${socket.lastEndpoint}\n`);

const sets = new Map<string, FrameSet>();
for await (const line of createInterface({ input: process.stdin })) {
  const [command, kind, payload, events, rate] = line.split(' ');
  if (command !== 'send') continue;
  const key = `${kind} ${payload}`;
  if (!sets.has(key)) sets.set(key, kind === 'bslz4' ? bslz4FrameSet() : frameSet(Number(payload)));
  const frames = sets.get(key)!;
  const interval = Number(rate) ? 1000 / Number(rate) : 0;
  const started = now();
  await socket.send(frames.header());
  for (let i = 0; i < Number(events); i++) {
    if (interval) {
      const due = started + (i + 1) * interval;
      for (let wait = due - now(); wait > 0; wait = due - now()) await sleep(Math.max(0, Math.floor(wait)));
    }
    await socket.send(frames.image(i));
  }
  await socket.send(frames.end(Number(events)));
  process.stdout.write(`sent ${started}\n`);
}

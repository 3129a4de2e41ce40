/**
 * The benchmark's detector, in a process of its own: binds a PUSH socket, prints its endpoint,
 * then for every `send <payload> <events> <rate>` line on stdin sends a STINS series and prints
 * `sent <start time>`.
 */
import { createInterface } from 'node:readline';
import * as zmq from 'zeromq';
import { frameSet, now } from './frames.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const socket = new zmq.Push({ sendHighWaterMark: 10_000 });
await socket.bind('tcp://127.0.0.1:*');
process.stdout.write(`endpoint ${socket.lastEndpoint}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  const [command, payload, events, rate] = line.split(' ');
  if (command !== 'send') continue;
  const frames = frameSet(Number(payload));
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

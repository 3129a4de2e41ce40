/**
 * A stand-in worker for the reducer stress row, in a process of its own: for every
 * `send <reducer endpoint> <scan> <token> <results> <batch>` line on stdin it connects a PUSH socket and
 * sends that many tiny results in the workers' wire format, `batch` to a message, then prints `sent`.
 * With batch 1 the messages are also what the raw chain's reducer reads: `[header, CBOR body]`.
 */
import { createInterface } from 'node:readline';
import * as zmq from 'zeromq';
import { encode } from 'cbor-x';
import { encodeResultBatch } from '../../src/core/wire.js';

process.stdout.write('ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  const [command, endpoint, scan, token, results, batch] = line.split(' ');
  if (command !== 'send') continue;
  const socket = new zmq.Push({ sendHighWaterMark: 10_000, linger: 5000 });
  socket.connect(endpoint);
  const source = { scan, token, worker: 'stress', instance: `stress-${process.pid}`, parametersHash: null };
  const body = encode(0);
  const size = Number(batch);
  for (let first = 0; first < Number(results); first += size) {
    const events = Array.from({ length: Math.min(size, Number(results) - first) }, (_, i) => first + i);
    await socket.send(encodeResultBatch(source, events, events.map(() => body)));
  }
  socket.close();
  process.stdout.write('sent\n');
}

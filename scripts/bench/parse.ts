/** Parse throughput per protocol family: how fast the parsers turn frames into typed arrays. */
import { bslz4Encode } from '../../src/core/compression/bslz4.js';
import { stins } from '../../src/protocols/stins/index.js';
import { xspress3 } from '../../src/protocols/xspress3/index.js';
import { xspressSeriesMessages } from '../../src/protocols/xspress3/emulator.js';
import { pcap } from '../../src/protocols/pcap/index.js';
import { pcapSeriesMessages } from '../../src/protocols/pcap/emulator.js';
import { createLogger } from '../../src/core/logging.js';

interface ParseCase { name: string; frames: Buffer[]; typ: string; parse: (data: { typ: string; frames: Buffer[] }) => unknown; bytes: number }

function stinsBslz4Case(): ParseCase {
  const shape = [512, 512];
  const pixels = new Uint32Array(shape[0] * shape[1]);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 2654435761) >>> 28;
  const raw = Buffer.from(pixels.buffer);
  const header = Buffer.from(JSON.stringify({ htype: 'image', frame: 0, shape, type: 'uint32', compression: 'bslz4', msg_number: 1 }));
  return { name: 'STINS bslz4 512×512 uint32', typ: 'STINS', frames: [header, bslz4Encode(raw, 4)], parse: stins.parse, bytes: raw.length };
}

function xspress3Case(): ParseCase {
  const [, image] = xspressSeriesMessages({ frames: 1, channels: 4, bins: 4096, variant: 'multipart' });
  return { name: 'Xspress3 4×4096 spectra + meta', typ: xspress3.typ, frames: image, parse: xspress3.parse, bytes: image[1].length };
}

/** one PCAP row as the ingester forwards it (after splitting the chunk) */
async function pcapCase(): Promise<ParseCase> {
  const messages = pcapSeriesMessages({ rows: 2 });
  let index = 0;
  const rows = pcap.scan({ next: async () => messages[index++] }, { stream: 'bench', logger: createLogger('bench'), bad: () => undefined });
  await rows.next();
  const row = (await rows.next()).value!;
  if (row.kind !== 'data') throw new Error(`the PCAP emulator's second item is ${row.kind}, not a row`);
  return { name: 'PCAP row', typ: pcap.typ, frames: row.data.frames, parse: pcap.parse, bytes: row.data.frames[0]!.length };
}

/** frames per CPU second of this process, so that a machine shared with other work still gives one core's rate */
function measure(c: ParseCase, seconds: number): { perSecond: number; gbps: number } {
  let count = 0;
  const cpu = process.cpuUsage();
  const used = () => { const u = process.cpuUsage(cpu); return (u.user + u.system) / 1e6; };
  while (count % 16 !== 0 || used() < seconds) {
    c.parse({ typ: c.typ, frames: c.frames });
    count += 1;
  }
  const elapsed = used();
  return { perSecond: count / elapsed, gbps: (count * c.bytes) / elapsed / 1e9 };
}

export async function parseRows(quick: boolean): Promise<string[][]> {
  const rows: string[][] = [];
  for (const c of [stinsBslz4Case(), xspress3Case(), await pcapCase()]) {
    const { perSecond, gbps } = measure(c, quick ? 0.5 : 2);
    rows.push([`parse ${c.name} (frames/s, GB/s decoded; one core)`, '', `${Math.round(perSecond).toLocaleString('en-US')} (${gbps.toFixed(2)} GB/s)`, '', '']);
  }
  return rows;
}

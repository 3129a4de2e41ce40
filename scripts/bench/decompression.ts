/**
 * Decompression throughput, in one run on the same blobs: our native decoders, our TypeScript
 * decoders, and C references timed inside Python (process start excluded): Debian's bitshuffle
 * module for bslz4, python3-lz4 (liblz4) for plain LZ4. Everything decodes on one thread (the C
 * module with OMP_NUM_THREADS=1), and the rate is decoded bytes over the process's CPU time, so
 * it is GB/s per core and holds on a machine shared with other work; min, median and max over
 * repeats. Runs alone: `node bin/run-ts.js scripts/bench/decompression.ts [--quick] [--json]`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bslz4Encode, lz4Compress } from '../../src/core/compression/index.js';
import { jsDecoders, type Decoders } from '../../src/core/compression/decoders.js';
import { loadNativeAddon, nativeDecoders } from '../../src/core/compression/native.js';
import { emulatedImage, stinsSeriesMessages } from '../../src/protocols/stins/emulator.js';
import { KEPT_MEMORY, keepFreedMemory } from '../../src/core/received-memory.js';
import { RUN_TS } from './raw-chain.js';

/** Debian's Python, the one that imports the bitshuffle module and python3-lz4 */
const PYTHON = '/usr/bin/python3';
const STINS_FRAMES = 8;
/** Eiger2 4M: 2162 rows × 2068 columns */
const EIGER_4M: [number, number] = [2162, 2068];

interface Case {
  name: string;
  codec: 'bslz4' | 'lz4';
  shape: [number, number];
  blobs: Buffer[];
  raws: Uint8Array[];
}

export interface Stats { min: number; median: number; max: number }

export interface DecompressionResult {
  case: string;
  implementation: string;
  /** GB/s of decoded output on one core; undefined when it could not run (see `missing`) */
  gbps?: Stats;
  missing?: string;
  /** median over the C reference's median */
  ratioToC?: number;
}

function bytesOf(array: ArrayBufferView): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

/** the case with its compressed size in its name */
function namedCase(what: string, codec: Case['codec'], shape: [number, number], blobs: Buffer[], raws: Uint8Array[]): Case {
  const fraction = blobs.reduce((sum, b) => sum + b.length, 0) / raws.reduce((sum, r) => sum + r.length, 0);
  return { name: `${what} ${codec} (${(100 * fraction).toFixed(1)}% of raw)`, codec, shape, blobs, raws };
}

/** the STINS emulator's frames: pixels 0…63 */
function stinsCase(codec: Case['codec']): Case {
  const options = { frames: STINS_FRAMES, shape: [512, 512], dtype: 'uint32' as const, compression: codec };
  const images = stinsSeriesMessages(options).filter((message) => message.length === 2 && message[0].includes('"image"'));
  return namedCase('STINS 512×512 uint32', codec, [512, 512], images.map((message) => message[1]),
    images.map((_, frame) => bytesOf(emulatedImage(options, frame).data)));
}

/** deterministic uniform numbers in [0, 1) (mulberry32) */
function randomSource(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/**
 * A frame the size of an Eiger2 4M: Poisson photon counts of mean 0.2, and the gaps between its
 * 2×4 modules (8 columns, 3 × 38 rows) masked with all ones, as Dectris marks unusable pixels.
 */
function eigerPixels(): Uint8Array {
  const [rows, columns] = EIGER_4M;
  const pixels = new Uint32Array(rows * columns);
  const random = randomSource(4);
  const mean = 0.2;
  for (let r = 0; r < rows; r++) {
    const gapRow = r % 550 >= 512;
    for (let c = 0; c < columns; c++) {
      if (gapRow || (c >= 1030 && c < 1038)) {
        pixels[r * columns + c] = 0xffffffff;
        continue;
      }
      let count = 0;
      let term = Math.exp(-mean);
      let cumulative = term;
      const u = random();
      while (u > cumulative) {
        count += 1;
        term *= mean / count;
        cumulative += term;
      }
      pixels[r * columns + c] = count;
    }
  }
  return bytesOf(pixels);
}

function eigerCase(codec: Case['codec'], raw: Uint8Array): Case {
  const blob = codec === 'bslz4' ? bslz4Encode(raw, 4) : lz4Compress(raw);
  return namedCase(`Eiger 4M-sized ${EIGER_4M.join('×')} uint32`, codec, EIGER_4M, [blob], [raw]);
}

interface Implementation {
  name: string;
  /** a function that decodes every blob of the case once */
  prepare(c: Case): () => void;
  /** decodes every blob once and returns the outputs, to check them */
  decodeAll(c: Case): Uint8Array[];
}

/** into arrays made once (the decoder alone), or into fresh ones, as the protocol parsers do */
function implementation(name: string, decoders: Decoders, reuseOutput: boolean): Implementation {
  const decodeOne = (c: Case, index: number, out: Uint8Array | undefined): Uint8Array => {
    const [blob, size] = [c.blobs[index], c.raws[index].length];
    if (c.codec === 'bslz4') return decoders.bslz4DecodeSized(blob, 4, size, out);
    if (out === undefined) return decoders.lz4Decompress(blob, size);
    decoders.lz4DecompressBlock(blob, out);
    return out;
  };
  const outputsFor = (c: Case) => (reuseOutput ? c.raws.map((raw) => new Uint8Array(raw.length)) : c.raws.map(() => undefined));
  return {
    name: `${name}, ${reuseOutput ? 'output array reused' : 'fresh output array'}`,
    prepare: (c) => {
      const outputs = outputsFor(c);
      return () => { for (let i = 0; i < c.blobs.length; i++) decodeOne(c, i, outputs[i]); };
    },
    decodeAll: (c) => {
      const outputs = outputsFor(c);
      return c.blobs.map((_, i) => decodeOne(c, i, outputs[i]));
    },
  };
}

function statsOf(rates: number[]): Stats {
  const sorted = [...rates].sort((a, b) => a - b);
  return { min: sorted[0], median: sorted[Math.floor(sorted.length / 2)], max: sorted[sorted.length - 1] };
}

/** CPU seconds of this process (its GC threads included) */
function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** GB/s per CPU second, per repeat; a repeat takes about `seconds`, after a warm-up of a fifth of that */
function timeRepeats(decodeAll: () => void, bytes: number, repeats: number, seconds: number): number[] {
  let calls = 0;
  const warmup = cpuSeconds();
  while (cpuSeconds() - warmup < seconds / 5) {
    decodeAll();
    calls += 1;
  }
  const rates: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const start = cpuSeconds();
    for (let i = 0; i < calls * 5; i++) decodeAll();
    rates.push((calls * 5 * bytes) / (cpuSeconds() - start) / 1e9);
  }
  return rates;
}

const PYTHON_BENCH = `
import json, sys, time
import numpy as np

manifest = json.load(open(sys.argv[1]))
repeats, seconds = int(sys.argv[2]), float(sys.argv[3])

def time_repeats(decode_all, nbytes):
    calls, start = 0, time.process_time()
    while time.process_time() - start < seconds / 5:
        decode_all()
        calls += 1
    rates = []
    for _ in range(repeats):
        start = time.process_time()
        for _ in range(calls * 5):
            decode_all()
        rates.append(calls * 5 * nbytes / (time.process_time() - start) / 1e9)
    return rates

results = {}
for case in manifest:
    blobs = [open(f, 'rb').read() for f in case['blobs']]
    raws = [open(f, 'rb').read() for f in case['raws']]
    try:
        if case['codec'] == 'bslz4':
            import bitshuffle
            shape, dtype = tuple(case['shape']), np.dtype('uint32')
            # the module takes the blocks without the 12-byte header, and the block length in elements
            arrays = [(np.frombuffer(b, np.uint8, offset=12), int.from_bytes(b[8:12], 'big') // 4) for b in blobs]
            decode = lambda i: bitshuffle.decompress_lz4(arrays[i][0], shape, dtype, arrays[i][1])
        else:
            import lz4.block
            decode = lambda i: lz4.block.decompress(blobs[i], uncompressed_size=len(raws[i]))
    except ImportError as error:
        results[case['name']] = {'missing': str(error)}
        continue
    if any(bytes(decode(i)) != raws[i] for i in range(len(blobs))):
        results[case['name']] = {'missing': 'decoded bytes differ from the raw frame'}
        continue
    def decode_all():
        for i in range(len(blobs)):
            decode(i)
    results[case['name']] = {'rates': time_repeats(decode_all, sum(len(r) for r in raws))}
print(json.dumps(results))
`;

const C_REFERENCE: Record<Case['codec'], { name: string; install: string }> = {
  bslz4: { name: 'C: Debian bitshuffle module', install: 'apt-get install -y bitshuffle' },
  lz4: { name: 'C: python3-lz4 (liblz4)', install: 'apt-get install -y python3-lz4' },
};

/** the C references, timed in one Python process on the same blobs */
function measureC(cases: Case[], repeats: number, seconds: number): Map<string, DecompressionResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'dranspose-bench-'));
  try {
    const manifest = cases.map((c, n) => ({
      name: c.name, codec: c.codec, shape: c.shape,
      blobs: c.blobs.map((blob, i) => { const file = path.join(dir, `${n}-${i}.blob`); writeFileSync(file, blob); return file; }),
      raws: c.raws.map((raw, i) => { const file = path.join(dir, `${n}-${i}.raw`); writeFileSync(file, raw); return file; }),
    }));
    writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
    const run = spawnSync(PYTHON, ['-c', PYTHON_BENCH, path.join(dir, 'manifest.json'), String(repeats), String(seconds)], {
      encoding: 'utf8',
      env: {
        ...process.env,
        OMP_NUM_THREADS: '1',
        // the parts' allocator thresholds: with glibc's moving ones, python3-lz4 decoded the
        // Eiger-sized frame at 0.19 GB/s instead of 2.1, faulting its fresh pages in each time
        MALLOC_MMAP_THRESHOLD_: String(KEPT_MEMORY.mapAbove),
        MALLOC_TRIM_THRESHOLD_: String(KEPT_MEMORY.trimAbove),
      },
      maxBuffer: 1 << 20,
    });
    const parsed = run.status === 0 ? JSON.parse(run.stdout) as Record<string, { rates?: number[]; missing?: string }> : {};
    const failure = run.error?.message ?? run.stderr.trim().split('\n').pop();
    return new Map(cases.map((c) => {
      const reference = C_REFERENCE[c.codec];
      const measured = parsed[c.name];
      const missing = measured?.missing !== undefined ? `${measured.missing} (${reference.install})` : `${PYTHON} failed: ${failure}`;
      return [c.name, measured?.rates
        ? { case: c.name, implementation: reference.name, gbps: statsOf(measured.rates) }
        : { case: c.name, implementation: reference.name, missing }];
    }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface DecompressionOptions {
  /** timed repeats per implementation and case (default 5) */
  repeats?: number;
  /** CPU seconds per repeat (default 0.3) */
  seconds?: number;
}

/** Every implementation on every case, with the C reference of the case first. */
export function measureDecompression({ repeats = 5, seconds = 0.3 }: DecompressionOptions = {}): DecompressionResult[] {
  keepFreedMemory(); // as in every part: fresh output arrays reuse freed memory
  const eiger = eigerPixels();
  const cases = [stinsCase('bslz4'), eigerCase('bslz4', eiger), stinsCase('lz4'), eigerCase('lz4', eiger)];
  const loaded = loadNativeAddon();
  const implementations = [
    ...(loaded.addon ? [true, false].map((reuse) => implementation('native', nativeDecoders(loaded.addon), reuse)) : []),
    ...[true, false].map((reuse) => implementation('TypeScript', jsDecoders, reuse)),
  ];
  const results: DecompressionResult[] = [];
  for (const c of cases) {
    const bytes = c.raws.reduce((sum, raw) => sum + raw.length, 0);
    for (const impl of implementations) {
      impl.decodeAll(c).forEach((out, i) => {
        if (Buffer.compare(out, c.raws[i]) !== 0) throw new Error(`${impl.name} decodes ${c.name} frame ${i} wrongly`);
      });
      results.push({ case: c.name, implementation: impl.name, gbps: statsOf(timeRepeats(impl.prepare(c), bytes, repeats, seconds)) });
    }
    if (!loaded.addon) results.push({ case: c.name, implementation: 'native', missing: loaded.reason });
  }
  const references = measureC(cases, repeats, seconds);
  return cases.flatMap((c) => {
    const reference = references.get(c.name)!;
    const ours = results.filter((r) => r.case === c.name).map((r) => (r.gbps && reference.gbps
      ? { ...r, ratioToC: r.gbps.median / reference.gbps.median } : r));
    return [reference, ...ours];
  });
}

const fmt = (x: number | undefined, digits = 2) => (x === undefined ? '' : x.toFixed(digits));
const statsText = (s: Stats | undefined) => (s ? `${fmt(s.median)} [${fmt(s.min)}–${fmt(s.max)}]` : '');

/**
 * Rows for `npm run bench`'s table (measure, C reference, ours, ratio, target): GB/s as
 * "median [min–max]".
 */
export function decompressionRows(quick: boolean): string[][] {
  const results = measureDecompression(quick ? { repeats: 3, seconds: 0.1 } : {});
  return results.filter((r) => !r.implementation.startsWith('C: ')).map((r) => {
    const reference = results.find((c) => c.case === r.case && c.implementation.startsWith('C: '))!;
    const target = r.implementation.startsWith('native') ? '≥ 1.5 GB/s, ≥ 0.8 × C' : '';
    return [
      `decompress ${r.case}: ${r.implementation} (GB/s per core; C = ${reference.implementation.slice(3)})`,
      reference.gbps ? statsText(reference.gbps) : `absent: ${reference.missing}`,
      r.gbps ? statsText(r.gbps) : `absent: ${r.missing}`,
      fmt(r.ratioToC),
      target,
    ];
  });
}

/**
 * The same rows measured in a process of their own, as a part decodes: in the bench's long-lived
 * process, collecting its larger heap made fresh output arrays look slower than they are.
 */
export function decompressionRowsApart(quick: boolean): string[][] {
  const run = spawnSync(process.execPath, [RUN_TS, fileURLToPath(import.meta.url), '--json', ...(quick ? ['--quick'] : [])],
    { encoding: 'utf8', maxBuffer: 1 << 22 });
  if (run.status !== 0) throw new Error(`decompression bench exited with ${run.status}: ${run.stderr.trim().split('\n').pop()}`);
  return JSON.parse(run.stdout) as string[][];
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  if (process.argv.includes('--json')) {
    process.stdout.write(JSON.stringify(decompressionRows(quick)));
    return;
  }
  const before = loadavg()[0];
  const started = performance.now();
  const loaded = loadNativeAddon();
  process.stdout.write(`decompression on one core (native bit-unshuffle: ${loaded.addon?.simdInUse() ?? loaded.reason})\n`);
  const rows = [['measure', 'C reference', 'ours', 'ratio', 'target'], ...decompressionRows(quick)];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  process.stdout.write(`${rows.map((r) => r.map((cell, i) => (i ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ')).join('\n')}\n`);
  process.stdout.write(`load average (1 min) ${fmt(before)} before, ${fmt(loadavg()[0])} after; ${fmt((performance.now() - started) / 1000, 0)} s\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();

import { expect } from 'chai';
import { createCipheriv } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  bitShuffle, bslz4Encode, decompressionBackend, lz4Compress, Lz4Error, type Bslz4Decoded,
} from '../src/core/compression/index.js';
import { chooseDecoders, jsDecoders, type Decoders } from '../src/core/compression/decoders.js';
import { loadNativeAddon, nativeDecoders, type NativeAddon, type SimdLevel } from '../src/core/compression/native.js';
import { run } from './helpers/process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const loaded = loadNativeAddon();

/** deterministic pseudo-random numbers in [0, 1) (an AES-CTR keystream of the seed), so failures reproduce */
function randomSource(seed: number): () => number {
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, seed), Buffer.alloc(16));
  let words = new Uint32Array(0);
  let next = 0;
  return () => {
    if (next === words.length) {
      const bytes = cipher.update(Buffer.alloc(4096));
      words = new Uint32Array(bytes.buffer, bytes.byteOffset, 1024);
      next = 0;
    }
    return words[next++] / 2 ** 32;
  };
}

/** detector-like pixels: mostly small counts, some masked (all ones); random upper bytes beyond 4 */
function detectorBytes(elements: number, elementSize: number, seed: number): Uint8Array {
  const random = randomSource(seed);
  const out = new Uint8Array(elements * elementSize);
  for (let i = 0; i < elements; i++) {
    const value = random() < 0.01 ? 0xffffffff : Math.floor(-Math.log(1 - random()) * 3);
    for (let b = 0; b < elementSize; b++) {
      const upper = random() < 0.1 ? Math.floor(random() * 256) : 0;
      out[i * elementSize + b] = b < 4 ? (value >>> (8 * b)) & 0xff : upper;
    }
  }
  return out;
}

type Verdict = { bytes: Buffer; blocks?: number; consumed?: number } | { error: string };

/** what a decode gave: its bytes (and progress), or its error's name and message */
function verdictOf(decode: () => Uint8Array | Bslz4Decoded): Verdict {
  try {
    const result = decode();
    if (result instanceof Uint8Array) return { bytes: Buffer.from(result) };
    return { bytes: Buffer.from(result.data), blocks: result.blocks, consumed: result.bytesConsumed };
  } catch (err) {
    return { error: `${(err as Error).name}: ${(err as Error).message}` };
  }
}

function expectSameVerdict(what: string, decode: (decoders: Decoders) => Uint8Array | Bslz4Decoded, native: Decoders): void {
  expect(verdictOf(() => decode(native)), what).to.deep.equal(verdictOf(() => decode(jsDecoders)));
}

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code ?? (err as Error).name;
  }
}

describe('decoder selection', () => {
  it('DRANSPOSE_NATIVE=0 forces the TypeScript decoders, whatever loaded', () => {
    const chosen = chooseDecoders({ DRANSPOSE_NATIVE: '0' }, loaded);
    expect(chosen.decoders).to.equal(jsDecoders);
    expect(chosen.backend).to.deep.equal({ implementation: 'js', reason: 'DRANSPOSE_NATIVE=0 forces the TypeScript decoders' });
  });

  it('an addon that is not built or does not load leaves the TypeScript decoders, saying why', () => {
    const missing = loadNativeAddon('/nonexistent/dranspose_native.node');
    expect(missing.reason).to.match(/not built \(no \/nonexistent\/dranspose_native\.node; `node scripts\/install-native\.js` builds it\)/);
    const dir = mkdtempSync(path.join(tmpdir(), 'dranspose-native-'));
    try {
      const broken = path.join(dir, 'broken.node');
      writeFileSync(broken, 'not a shared object');
      expect(loadNativeAddon(broken).reason).to.match(/^the native addon does not load: /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const chosen = chooseDecoders({}, missing);
    expect(chosen.decoders).to.equal(jsDecoders);
    expect(chosen.backend).to.deep.equal({ implementation: 'js', reason: missing.reason });
  });

  it('a loaded addon gives the native decoders and names its instruction set', function () {
    if (!loaded.addon) {
      console.log(`      skipped: ${loaded.reason}`);
      this.skip();
    }
    const chosen = chooseDecoders({}, loaded);
    expect(chosen.decoders).to.not.equal(jsDecoders);
    expect(chosen.backend.implementation).to.equal('native');
    expect(['avx2', 'sse2', 'scalar']).to.include(chosen.backend.simd);
  });

  it('index.ts decides when it loads: DRANSPOSE_NATIVE=0 in a new process gives the TypeScript decoders', async () => {
    const script = "const m = await import('./src/core/compression/index.ts'); console.log(JSON.stringify(m.decompressionBackend));";
    const backendWith = async (env: NodeJS.ProcessEnv) => JSON.parse((await run(process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, env: { ...process.env, ...env } })).stdout);
    expect(await backendWith({ DRANSPOSE_NATIVE: '0' })).to.deep.equal({ implementation: 'js', reason: 'DRANSPOSE_NATIVE=0 forces the TypeScript decoders' });
    expect((await backendWith({ DRANSPOSE_NATIVE: '1' })).implementation).to.equal(loaded.addon ? 'native' : 'js');
  });

  it('the compression suite also passes with the implementation this process does not use', async function () {
    if (!loaded.addon) {
      console.log(`      skipped: only the TypeScript decoders exist here (${loaded.reason})`);
      this.skip();
    }
    this.timeout(180_000);
    const other = decompressionBackend.implementation === 'native' ? '0' : '1';
    const { stdout } = await run(process.execPath,
      ['node_modules/mocha/bin/mocha.js', '--no-config', '-n', 'import=tsx', '--timeout', '60000', '--exit', 'test/compression.test.ts'],
      { cwd: ROOT, env: { ...process.env, DRANSPOSE_NATIVE: other }, maxBuffer: 1 << 24 });
    expect(stdout).to.match(/\d+ passing/);
    expect(stdout).to.not.match(/failing/);
  });
});

describe('native decoders', function () {
  let addon: NativeAddon;
  let native: Decoders;
  before(function () {
    if (!loaded.addon) {
      console.log(`      skipped: ${loaded.reason}`);
      this.skip();
    }
    addon = loaded.addon;
    native = nativeDecoders(addon);
  });

  describe('give the TypeScript decoders\' bytes, or their error and message, for bad input', () => {
    // 2 full blocks of 2048 uint32, a partial one of 904 and 3 trailing elements
    const elements = 5003;
    const raw = detectorBytes(elements, 4, 1);
    const blob = bslz4Encode(raw, 4);
    const bare = bslz4Encode(raw, 4, { header: false });

    it('every truncation of a blob, with and without header', () => {
      for (let length = 0; length < blob.length; length++) {
        const cut = blob.subarray(0, length);
        expectSameVerdict(`bslz4Decode of ${length} bytes`, (d) => d.bslz4Decode(cut, 4), native);
        expectSameVerdict(`bslz4DecodeCompleteBlocks of ${length} bytes`, (d) => d.bslz4DecodeCompleteBlocks(cut, 4), native);
        expectSameVerdict(`bslz4DecodeSized of ${length} bytes`, (d) => d.bslz4DecodeSized(cut, 4, raw.length), native);
        const cutBare = bare.subarray(0, Math.min(length, bare.length));
        expectSameVerdict(`headerless bslz4DecodeSized of ${cutBare.length} bytes`, (d) => d.bslz4DecodeSized(cutBare, 4, raw.length), native);
      }
    });

    it('blobs with one to three bytes overwritten', () => {
      const random = randomSource(7);
      let refused = 0;
      for (let trial = 0; trial < 3000; trial++) {
        const corrupt = Buffer.from(blob);
        const changes = 1 + Math.floor(random() * 3);
        for (let c = 0; c < changes; c++) corrupt[Math.floor(random() * corrupt.length)] = Math.floor(random() * 256);
        const verdict = verdictOf(() => native.bslz4Decode(corrupt, 4));
        if ('error' in verdict) refused++;
        expect(verdict, `trial ${trial}`).to.deep.equal(verdictOf(() => jsDecoders.bslz4Decode(corrupt, 4)));
        expectSameVerdict(`trial ${trial}, complete blocks`, (d) => d.bslz4DecodeCompleteBlocks(corrupt, 4), native);
      }
      expect(refused).to.be.greaterThan(100); // the trials did reach the error paths
    });

    it('random and mangled LZ4 blocks', () => {
      const random = randomSource(11);
      const valid = lz4Compress(detectorBytes(3000, 1, 2));
      for (let trial = 0; trial < 3000; trial++) {
        const block = trial % 2 === 0
          ? Uint8Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256))
          : Uint8Array.from(valid.subarray(0, 1 + Math.floor(random() * valid.length)), (v) => (random() < 0.01 ? Math.floor(random() * 256) : v));
        const size = Math.floor(random() * 4000);
        expectSameVerdict(`lz4Decompress trial ${trial}`, (d) => d.lz4Decompress(block, size), native);
        expect(['ERR_DRANSPOSE_CORRUPT', undefined], `trial ${trial}`)
          .to.include(codeOf(() => addon.lz4DecodeBlock(block, new Uint8Array(size), 0, size)));
      }
    });

    it("blocks that break LZ4's end-of-block rules are read, a match offset of 0 is refused", () => {
      // "ab", a match of offset 2 and length 6 within the last 12 bytes, then "cdefg": liblz4 refuses it
      const lateMatch = Uint8Array.from([0x22, 0x61, 0x62, 0x02, 0x00, 0x50, 0x63, 0x64, 0x65, 0x66, 0x67]);
      const out = new Uint8Array(13);
      expect(addon.lz4DecodeBlock(lateMatch, out, 0, 13)).to.equal(13);
      expect(Buffer.from(out).toString()).to.equal('ababababcdefg');
      // "a", then a match of offset 0 (liblz4 takes it, copying what the output held), then 5 literals
      const offsetZero = Uint8Array.from([0x14, 0x61, 0x00, 0x00, 0x50, 0x61, 0x61, 0x61, 0x61, 0x61]);
      for (const decoders of [native, jsDecoders]) {
        expect(() => decoders.lz4Decompress(offsetZero, 14)).to.throw(Lz4Error, 'LZ4 block has a bad match offset 0 at byte 2 (1 bytes decoded)');
      }
    });
  });

  describe('the addon itself', () => {
    const raw = detectorBytes(4096 + 11, 4, 3);
    const blob = bslz4Encode(raw, 4);
    const decodeBlocks = (args: Partial<{ blob: Uint8Array; start: number; out: Uint8Array; elementSize: number;
      blockElements: number; totalElements: number; completeOnly: boolean }>) => {
      const a = { blob, start: 12, out: new Uint8Array(raw.length), elementSize: 4, blockElements: 2048, totalElements: 4107, completeOnly: false, ...args };
      return addon.bslz4DecodeBlocks(a.blob, a.start, a.out, a.elementSize, a.blockElements, a.totalElements, a.completeOnly);
    };

    it('decodes into the array it is given, and reports its progress', () => {
      const out = new Uint8Array(raw.length);
      expect(decodeBlocks({ out })).to.deep.equal([3, blob.length, raw.length]);
      expect(out).to.deep.equal(raw);
      const window = new Uint8Array(raw.length + 8);
      const block = lz4Compress(raw);
      expect(addon.lz4DecodeBlock(block, window, 8, window.length)).to.equal(window.length);
      expect(window.subarray(8)).to.deep.equal(raw);
    });

    it('refuses sizes and offsets that do not fit the buffers, without touching memory outside them', () => {
      const refusal = (args: Parameters<typeof decodeBlocks>[0]) => {
        try {
          decodeBlocks(args);
        } catch (err) {
          return `${(err as { code: string }).code}: ${(err as Error).message}`;
        }
        throw new Error('no refusal');
      };
      expect(refusal({ out: new Uint8Array(raw.length - 1) })).to.match(/^ERR_DRANSPOSE_CORRUPT: .*no room for the trailing elements/);
      expect(refusal({ out: new Uint8Array(100) })).to.match(/no room for block 0/);
      expect(refusal({ totalElements: 2 ** 53 - 1, elementSize: 1, blockElements: 8192 })).to.match(/no room|truncated/);
      expect(refusal({ totalElements: 2 ** 52, elementSize: 4096 })).to.match(/too many/);
      expect(refusal({ start: blob.length + 1 })).to.match(/after the blob's end/);
      expect(refusal({ elementSize: 0 })).to.match(/element size must be positive/);
      expect(refusal({ blockElements: 12 })).to.match(/multiple of 8/);
      expect(refusal({ blockElements: 2 ** 40 })).to.match(/block 0 at offset 12 decompresses to 8192 bytes, expected 16416/);
      expect(refusal({ blob: blob.subarray(0, 20) })).to.match(/truncated: block 0 of 3/);
      expect(refusal({ blob: Buffer.concat([blob, Buffer.alloc(1)]) })).to.match(/1 unexpected bytes/);
      expect(decodeBlocks({ blob: blob.subarray(0, 20), completeOnly: true })).to.deep.equal([0, 12, 0]);
    });

    it('refuses arguments of the wrong kind with TypeErrors and RangeErrors', () => {
      const dst = new Uint8Array(16);
      const block = lz4Compress(new Uint8Array(16));
      const allocator = addon as unknown as { keepFreedMemory: (mapAbove: unknown, trimAbove: unknown) => boolean };
      const cases: [() => unknown, string][] = [
        [() => addon.lz4DecodeBlock('text' as unknown as Uint8Array, dst, 0, 16), 'ERR_INVALID_ARG_TYPE'],
        [() => addon.lz4DecodeBlock(new Uint16Array(8) as unknown as Uint8Array, dst, 0, 16), 'ERR_INVALID_ARG_TYPE'],
        [() => addon.lz4DecodeBlock(block, dst, -1, 16), 'ERR_INVALID_ARG_TYPE'],
        [() => addon.lz4DecodeBlock(block, dst, 0.5, 16), 'ERR_INVALID_ARG_TYPE'],
        [() => addon.lz4DecodeBlock(block, dst, 0, 17), 'ERR_OUT_OF_RANGE'],
        [() => addon.lz4DecodeBlock(block, dst, 9, 8), 'ERR_OUT_OF_RANGE'],
        [() => (addon.lz4DecodeBlock as (...args: unknown[]) => number)(block, dst), 'ERR_MISSING_ARGS'],
        [() => decodeBlocks({ completeOnly: 'yes' as unknown as boolean }), 'ERR_INVALID_ARG_TYPE'],
        [() => decodeBlocks({ totalElements: Number.NaN }), 'ERR_INVALID_ARG_TYPE'],
        [() => addon.bitUnshuffle(new Uint8Array(64), new Uint8Array(63), 1, 8), 'ERR_OUT_OF_RANGE'],
        [() => addon.bitUnshuffle(new Uint8Array(64), new Uint8Array(64), 3, 8), 'ERR_DRANSPOSE_CORRUPT'],
        [() => addon.useSimd('mmx' as SimdLevel), 'ERR_OUT_OF_RANGE'],
        [() => allocator.keepFreedMemory(-1, 2 ** 20), 'ERR_INVALID_ARG_TYPE'],
        [() => allocator.keepFreedMemory(2 ** 20, '1M'), 'ERR_INVALID_ARG_TYPE'],
        [() => allocator.keepFreedMemory(2 ** 31, 2 ** 20), 'ERR_OUT_OF_RANGE'],
      ];
      cases.forEach(([action, code], i) => expect(codeOf(action), `case ${i}`).to.equal(code));
      expect(addon.lz4DecodeBlock(block, dst, 0, 16)).to.equal(16);
    });

    it('unshuffles at every instruction-set level as the TypeScript reference does', () => {
      const best = addon.simdInUse();
      const levels: SimdLevel[] = ['scalar', 'sse2', 'avx2'];
      try {
        for (const level of levels) {
          const used = addon.useSimd(level);
          expect(levels.indexOf(used)).to.be.at.most(levels.indexOf(level));
          // blocks whose bit-rows are whole vectors, and last blocks whose rows end mid-vector
          for (const elementSize of [1, 2, 3, 4, 8, 16]) {
            for (const [elements, blockElements] of [[8, 8], [4096 + 37, 2048], [1000, 64], [3 * 256 + 136, 256], [777, 1024]]) {
              const src = detectorBytes(elements, elementSize, elements);
              const what = `${used}: ${elements} elements of ${elementSize} bytes in blocks of ${blockElements}`;
              expect(native.bitUnshuffle(bitShuffle(src, elementSize, blockElements), elementSize, blockElements), what).to.deep.equal(src);
            }
            const raw = detectorBytes(3 * 8192 / elementSize + 5, elementSize, 5);
            expect(native.bslz4Decode(bslz4Encode(raw, elementSize), elementSize), `${used}: bslz4, ${elementSize}-byte elements`).to.deep.equal(raw);
          }
        }
      } finally {
        addon.useSimd(best);
      }
    });
  });
});

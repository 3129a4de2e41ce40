import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  bitShuffle, bitUnshuffle, bslz4Decode, bslz4DecodeCompleteBlocks, bslz4DecodeSized, bslz4Encode,
  defaultBlockElements, lz4Compress, lz4CompressBlock, lz4CompressBound, lz4Decompress, lz4DecompressBlock,
  readBslz4Header, shuffleBlock,
} from '../src/core/compression/index.js';
import { captureMessages } from './helpers/upstream-harness.js';
import { fixture } from './helpers/fixtures.js';
import { PYTHON } from './helpers/process.js';

/** deterministic bytes: a mix of runs, small values and noise, like detector data */
function testBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const noise = Math.imul(i + seed, 0x9e3779b1) >>> 24;
    out[i] = (i >> 9) % 3 === 0 ? 0 : (i % 7 === 0 ? noise : noise & 0x0f);
  }
  return out;
}

function bytesOf(array: ArrayBufferView): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

/** Bit-shuffle straight from its definition, one bit at a time: the independent reference. */
function shuffleByDefinition(src: Uint8Array, elementSize: number, blockElements: number): Uint8Array {
  const elements = src.length / elementSize;
  const out = new Uint8Array(src.length);
  let start = 0;
  while (elements - start >= 8) {
    const n = Math.min(blockElements, (elements - start) - ((elements - start) % 8));
    const columns = n / 8;
    for (let e = 0; e < n; e++) {
      for (let b = 0; b < elementSize; b++) {
        for (let j = 0; j < 8; j++) {
          const bit = (src[(start + e) * elementSize + b] >> j) & 1;
          out[start * elementSize + (8 * b + j) * columns + (e >> 3)] |= bit << (e & 7);
        }
      }
    }
    start += n;
  }
  out.set(src.subarray(start * elementSize), start * elementSize);
  return out;
}

function python(script: string, args: string[], input: Uint8Array): Buffer {
  const run = spawnSync(PYTHON, ['-c', script, ...args], { input, maxBuffer: 1 << 28 });
  if (run.status !== 0) throw new Error(`python failed: ${run.stderr.toString()}`);
  return run.stdout;
}

function pythonLz4Missing(): string | undefined {
  if (!existsSync(PYTHON)) return `${PYTHON} is absent`;
  const run = spawnSync(PYTHON, ['-c', 'import lz4.block, numpy']);
  return run.status === 0 ? undefined : 'python3-lz4 or python3-numpy is not installed';
}

describe('LZ4 block codec', () => {
  for (const length of [0, 1, 12, 13, 100, 4096, 70_000, 300_000]) {
    it(`round-trips ${length} bytes`, () => {
      const data = testBytes(length);
      const block = lz4Compress(data);
      expect(lz4Decompress(block, length)).to.deep.equal(data);
      if (length >= 4096) expect(block.length).to.be.lessThan(length);
    });
  }

  it('round-trips incompressible data within the bound', () => {
    const data = new Uint8Array(10_000).map((_, i) => Math.imul(i, 0x2545f491) >>> 24);
    const block = lz4Compress(data);
    expect(block.length).to.be.at.most(lz4CompressBound(data.length));
    expect(lz4Decompress(block, data.length)).to.deep.equal(data);
  });

  it('decodes long overlapping matches (runs of one value)', () => {
    const data = new Uint8Array(50_000).fill(7);
    data[0] = 1;
    const block = lz4Compress(data);
    expect(block.length).to.be.lessThan(300);
    expect(lz4Decompress(block, data.length)).to.deep.equal(data);
  });

  it('compresses into a larger buffer at an offset and decodes from it', () => {
    const data = testBytes(5000, 3);
    const room = new Uint8Array(10 + lz4CompressBound(data.length));
    const end = lz4CompressBlock(data, room, 10);
    const out = new Uint8Array(data.length + 20);
    expect(lz4DecompressBlock(room.subarray(10, end), out, 20)).to.equal(data.length + 20);
    expect(out.subarray(20)).to.deep.equal(data);
    expect(() => lz4CompressBlock(data, new Uint8Array(100))).to.throw(RangeError, /room/);
  });

  it('decodes a hand-made block: literals "ab", then a match of offset 2 and length 6, then "cdefg"', () => {
    const block = Uint8Array.from([0x22, 0x61, 0x62, 0x02, 0x00, 0x50, 0x63, 0x64, 0x65, 0x66, 0x67]);
    expect(Buffer.from(lz4Decompress(block, 13)).toString()).to.equal('ababababcdefg');
  });

  describe('rejects malformed blocks with a clear error', () => {
    const cases: [string, number[], number, RegExp][] = [
      ['an empty block', [], 4, /empty/],
      ['literals running past the end', [0x50, 0x61, 0x62], 5, /truncated: 5 literals/],
      ['a literal length cut short', [0xf0, 0xff], 300, /truncated in a literal length/],
      ['an offset of 0', [0x14, 0x61, 0x00, 0x00, 0x00], 20, /bad match offset 0/],
      ['an offset before the start', [0x14, 0x61, 0x05, 0x00, 0x00], 20, /bad match offset 5/],
      ['a cut-off offset', [0x14, 0x61, 0x01], 20, /truncated in a match offset/],
      ['a block ending with a match', [0x14, 0x61, 0x01, 0x00], 20, /ends with a match/],
      ['more output than expected', [0x50, 0x61, 0x62, 0x63, 0x64, 0x65], 4, /more than 4 bytes/],
    ];
    for (const [what, bytes, size, message] of cases) {
      it(what, () => {
        expect(() => lz4Decompress(Uint8Array.from(bytes), size)).to.throw(message);
      });
    }
    it('less output than expected', () => {
      expect(() => lz4Decompress(lz4Compress(testBytes(100)), 101)).to.throw(/decompresses to 100 bytes, expected 101/);
    });
  });
});

describe('bitshuffle', () => {
  it("uses bitshuffle's default block lengths", () => {
    expect([1, 2, 4, 8, 3, 128].map(defaultBlockElements)).to.deep.equal([8192, 4096, 2048, 1024, 2728, 128]);
  });

  for (const elementSize of [1, 2, 4, 8]) {
    for (const [elements, blockElements] of [[8, 8], [64, 64], [1000, 64], [4096 + 37, 2048], [5, 8], [37, 16]]) {
      it(`matches the bit-by-bit definition: ${elements} elements of ${elementSize} bytes, blocks of ${blockElements}`, () => {
        const src = testBytes(elements * elementSize, elements);
        const shuffled = bitShuffle(src, elementSize, blockElements);
        expect(shuffled).to.deep.equal(shuffleByDefinition(src, elementSize, blockElements));
        expect(bitUnshuffle(shuffled, elementSize, blockElements)).to.deep.equal(src);
      });
    }
  }

  it('word and byte paths of unshuffle agree (aligned vs unaligned buffers)', () => {
    for (const elementSize of [1, 2, 4, 8]) {
      const elements = 256;
      const shuffled = bitShuffle(testBytes(elements * elementSize, 9), elementSize, elements);
      const aligned = new Uint8Array(elements * elementSize);
      shuffleBlock(shuffled, 0, aligned, 0, elements, elementSize, 'unshuffle');
      const unalignedSrc = new Uint8Array(shuffled.length + 1);
      unalignedSrc.set(shuffled, 1);
      const unaligned = new Uint8Array(shuffled.length + 3);
      shuffleBlock(unalignedSrc, 1, unaligned, 3, elements, elementSize, 'unshuffle');
      expect(unaligned.subarray(3), `element size ${elementSize}`).to.deep.equal(aligned);
    }
  });

  it('rejects bad element and block sizes', () => {
    expect(() => bitShuffle(new Uint8Array(6), 4)).to.throw(/not a whole number of 4-byte elements/);
    expect(() => bitShuffle(new Uint8Array(8), 0)).to.throw(/element size/);
    expect(() => bitShuffle(new Uint8Array(64), 1, 12)).to.throw(/multiple of 8/);
  });
});

describe('bslz4 (bitshuffle-LZ4) blobs', () => {
  const arrays: [string, (n: number) => ArrayBufferView & { length: number }][] = [
    ['uint8', (n) => new Uint8Array(n).map((_, i) => (i * 7) % 13)],
    ['uint16', (n) => new Uint16Array(n).map((_, i) => (i % 97) * 300 + (i >> 6))],
    ['uint32', (n) => new Uint32Array(n).map((_, i) => (i % 1000 === 3 ? 0xffffffff : (Math.imul(i, 0x9e3779b1) >>> 27)))],
    ['float32', (n) => new Float32Array(n).map((_, i) => Math.sin(i / 10) * 100)],
  ];
  for (const [dtype, make] of arrays) {
    for (const elements of [1, 7, 8, 1000, 4096, 3 * 4096 + 13]) {
      it(`round-trips ${elements} ${dtype} with and without the header`, () => {
        const array = make(elements);
        const raw = bytesOf(array);
        const elementSize = raw.length / elements;
        const blob = bslz4Encode(raw, elementSize);
        expect(readBslz4Header(blob)).to.deep.equal({ totalBytes: raw.length, blockBytes: 8192 });
        expect(bslz4Decode(blob, elementSize)).to.deep.equal(raw);
        expect(bslz4DecodeSized(blob, elementSize, raw.length)).to.deep.equal(raw);
        const bare = bslz4Encode(raw, elementSize, { header: false });
        expect(bare.length).to.equal(blob.length - 12);
        expect(bslz4DecodeSized(bare, elementSize, raw.length)).to.deep.equal(raw);
      });
    }
  }

  it('honours a custom block length and decodes into a given output', () => {
    const raw = bytesOf(new Uint16Array(1234).map((_, i) => i * 3));
    const blob = bslz4Encode(raw, 2, { blockElements: 64 });
    expect(readBslz4Header(blob).blockBytes).to.equal(128);
    const out = new Uint8Array(raw.length);
    expect(bslz4Decode(blob, 2, out)).to.equal(out);
    expect(out).to.deep.equal(raw);
    expect(() => bslz4Decode(blob, 2, new Uint8Array(10))).to.throw(/output has 10 bytes/);
  });

  describe('rejects bad blobs with a clear error', () => {
    const raw = bytesOf(new Uint32Array(5000).map((_, i) => i % 300));
    const blob = bslz4Encode(raw, 4);

    it('truncated', () => {
      expect(() => bslz4Decode(blob.subarray(0, blob.length - 10), 4)).to.throw(/bslz4 blob truncated: block 2 of 3 needs/);
      expect(() => bslz4Decode(blob.subarray(0, 8), 4)).to.throw(/shorter than its 12-byte header/);
    });
    it('trailing bytes', () => {
      expect(() => bslz4Decode(Buffer.concat([blob, Buffer.from([1, 2])]), 4)).to.throw(/2 unexpected bytes/);
    });
    it('a corrupt block', () => {
      const corrupt = Buffer.from(blob);
      corrupt.writeUInt32BE(corrupt.readUInt32BE(12) - 3, 12); // block 0 now ends mid-sequence
      expect(() => bslz4Decode(corrupt, 4)).to.throw(/bslz4 block 0 at offset 12/);
    });
    it('a header that does not fit the element size or the expected size', () => {
      expect(() => bslz4Decode(blob, 3)).to.throw(/not a whole number of 3-byte elements/);
      expect(() => bslz4DecodeSized(blob, 4, raw.length + 4)).to.throw(/header announces 20000 bytes, expected 20004/);
      const huge = Buffer.from(blob);
      huge.writeBigUInt64BE(1n << 40n, 0);
      expect(() => bslz4Decode(huge, 4)).to.throw(/more than a \d+-byte blob can hold/);
      const badBlock = Buffer.from(blob);
      badBlock.writeUInt32BE(12, 8);
      expect(() => bslz4Decode(badBlock, 4)).to.throw(/block size 12 bytes/);
    });
  });

  it('prints decode throughput for a 1 MiB uint32 image', () => {
    const raw = bytesOf(new Uint32Array(1 << 18).map((_, i) => (i % 1000 === 0 ? 0xffffffff : Math.imul(i + 1, 0x9e3779b1) >>> 26)));
    const blob = bslz4Encode(raw, 4);
    for (let i = 0; i < 10; i++) bslz4Decode(blob, 4);
    const runs = 50;
    const start = performance.now();
    for (let i = 0; i < runs; i++) bslz4Decode(blob, 4);
    const seconds = (performance.now() - start) / 1000;
    const rate = (runs * raw.length) / 1e6 / seconds;
    console.log(`      bslz4 decode of a 1 MiB uint32 image (ratio ${(blob.length / raw.length).toFixed(3)}): ${rate.toFixed(0)} MB/s`);
    expect(bslz4Decode(blob, 4)).to.deep.equal(raw);
  });

  describe('against the real Eiger capture (eiger-small.cbors)', () => {
    let blobs: Buffer[] = [];
    before(async function () {
      const messages = await captureMessages(fixture(this, 'eiger-small.cbors'));
      blobs = [1, 2, 3].map((i) => messages[i][2]);
    });

    it('frame 0 header: 40 553 184 bytes in 8192-byte blocks, first block 162 bytes', () => {
      expect(readBslz4Header(blobs[0])).to.deep.equal({ totalBytes: 40_553_184, blockBytes: 8192 });
      expect(blobs[0].readUInt32BE(12)).to.equal(162);
    });

    const expected = [
      { consumed: 19758, sum: 1185 },
      { consumed: 19788, sum: 1070 },
      { consumed: 19614, sum: 1177 },
    ];
    expected.forEach(({ consumed, sum }, frame) => {
      it(`frame ${frame}: the complete blocks give the reference vectors`, () => {
        const decoded = bslz4DecodeCompleteBlocks(blobs[frame], 4);
        const values = new Uint32Array(decoded.data.buffer, decoded.data.byteOffset, decoded.data.length / 4);
        let total = 0;
        let masked = 0;
        for (const v of values) {
          if (v === 0xffffffff) masked++;
          else total += v;
        }
        expect({ blocks: decoded.blocks, consumed: decoded.bytesConsumed, elements: values.length, total, masked })
          .to.deep.equal({ blocks: 123, consumed, elements: 251904, total: sum, masked: 2708 });
      });
    });

    it('frame 0 block 0: 16 leading zeros, 28 masked pixels, others at most 2', () => {
      const data = bslz4DecodeCompleteBlocks(blobs[0], 4).data;
      const block = new Uint32Array(data.buffer, data.byteOffset, 2048);
      expect(Array.from(block.subarray(0, 16))).to.deep.equal(new Array(16).fill(0));
      expect(block.filter((v) => v === 0xffffffff).length).to.equal(28);
      expect(Math.max(...block.filter((v) => v !== 0xffffffff))).to.equal(2);
    });

    it('a full decode of the truncated blob fails naming the truncation', () => {
      expect(() => bslz4Decode(blobs[0], 4)).to.throw(/more than a 20000-byte blob can hold/);
      const oneBlockMore = Buffer.from(blobs[0]);
      oneBlockMore.writeBigUInt64BE(124n * 8192n, 0);
      expect(() => bslz4Decode(oneBlockMore, 4)).to.throw(/bslz4 blob truncated: block 123 of 124 needs \d+ bytes at offset 19758/);
      expect(() => bslz4DecodeSized(blobs[0].subarray(0, 19758), 4, 123 * 8192)).to.throw(/header announces 40553184 bytes/);
    });
  });

  describe('interoperates with the reference LZ4 library (python3-lz4 + numpy)', () => {
    before(function () {
      const missing = pythonLz4Missing();
      if (missing) {
        console.log(`skipped: ${missing}`);
        this.skip();
      }
    });

    // Independent bslz4 codec: numpy bit (un)packing as in protocols.md §2.2.1, lz4.block for blocks.
    const BSLZ4_PY = `
import sys, struct, numpy as np, lz4.block
mode, es = sys.argv[1], int(sys.argv[2])
buf = sys.stdin.buffer.read()
if mode == 'decode':
    total, bsz = struct.unpack('>QI', buf[:12])
    n_el, blk_el, pos, done, out = total // es, bsz // es, 12, 0, []
    while n_el - done >= 8:
        n = min(blk_el, (n_el - done) // 8 * 8)
        (cs,) = struct.unpack('>I', buf[pos:pos + 4])
        blk = lz4.block.decompress(buf[pos + 4:pos + 4 + cs], uncompressed_size=n * es)
        bits = np.unpackbits(np.frombuffer(blk, np.uint8).reshape(8 * es, n // 8), axis=1, bitorder='little')
        out.append(np.packbits(bits.T, axis=1, bitorder='little').tobytes())
        pos, done = pos + 4 + cs, done + n
    out.append(buf[pos:pos + (n_el - done) * es])
    assert pos + (n_el - done) * es == len(buf), 'trailing bytes'
    sys.stdout.buffer.write(b''.join(out))
else:
    blk_el = 8192 // es
    n_el, done, out = len(buf) // es, 0, [struct.pack('>QI', len(buf), blk_el * es)]
    while n_el - done >= 8:
        n = min(blk_el, (n_el - done) // 8 * 8)
        bits = np.unpackbits(np.frombuffer(buf[done * es:(done + n) * es], np.uint8).reshape(n, es), axis=1, bitorder='little')
        shuffled = np.packbits(bits.T, axis=1, bitorder='little').tobytes()
        block = lz4.block.compress(shuffled, store_size=False, mode=sys.argv[3])
        out += [struct.pack('>I', len(block)), block]
        done += n
    out.append(buf[done * es:])
    sys.stdout.buffer.write(b''.join(out))
`;
    for (const elementSize of [1, 2, 4]) {
      const raw = testBytes(elementSize * (3 * 8192 / elementSize + 13), elementSize);

      it(`python decodes our blobs (element size ${elementSize})`, () => {
        expect(new Uint8Array(python(BSLZ4_PY, ['decode', String(elementSize)], bslz4Encode(raw, elementSize)))).to.deep.equal(raw);
      });

      for (const mode of ['default', 'high_compression']) {
        it(`we decode python's blobs (element size ${elementSize}, lz4 ${mode})`, () => {
          const blob = python(BSLZ4_PY, ['encode', String(elementSize), mode], raw);
          expect(bslz4Decode(blob, elementSize)).to.deep.equal(raw);
        });
      }
    }

    it('python decompresses our plain LZ4 blocks and we decompress its', () => {
      const raw = testBytes(100_000, 5);
      const script = `import sys, lz4.block
d = sys.stdin.buffer.read()
sys.stdout.buffer.write(lz4.block.decompress(d, uncompressed_size=int(sys.argv[1])) if sys.argv[1] != 'c' else lz4.block.compress(d, store_size=False))`;
      expect(new Uint8Array(python(script, [String(raw.length)], lz4Compress(raw)))).to.deep.equal(raw);
      expect(lz4Decompress(python(script, ['c'], raw), raw.length)).to.deep.equal(raw);
    });
  });
});

/**
 * The memory of the parts: the V8 flags each command starts with, young collections after large
 * receives, freed frame memory kept during a scan and given back after it, and the young
 * generation given back once a part has started.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { nodeArgsFor, nodeFlagsFor } from '../src/core/node-flags.js';
import { run } from './helpers/process.js';

const RECEIVED_MEMORY = JSON.stringify(new URL('../src/core/received-memory.ts', import.meta.url).href);

/** runs `script` (an ES module) in a child process with a worker's flags; what it printed */
async function inPart(script: string, args: string[] = []): Promise<string> {
  const { stdout } = await run(process.execPath, [...nodeFlagsFor('worker'), '--import', 'tsx', '--input-type=module', '-e', script, ...args], { encoding: 'utf8' });
  return stdout;
}

describe('node flags of the parts', () => {
  it('give ingesters the heap and GC flags, workers and reducers the heap flag and gc, other commands none', () => {
    expect(nodeFlagsFor('ingester')).to.deep.equal(['--initial-old-space-size=256', '--expose-gc', '--single-threaded-gc']);
    for (const command of ['worker', 'debug-worker', 'reducer']) expect(nodeFlagsFor(command)).to.deep.equal(['--initial-old-space-size=256', '--expose-gc']);
    for (const command of ['run', 'controller', 'demo', 'replay', undefined, 'toString']) expect(nodeFlagsFor(command)).to.deep.equal([]);
  });

  it('are added to the flags given, counting a flag given with another value as given', () => {
    expect(nodeArgsFor('ingester', [])).to.deep.equal(['--initial-old-space-size=256', '--expose-gc', '--single-threaded-gc']);
    expect(nodeArgsFor('ingester', ['--initial-old-space-size=1024', '--cpu-prof'])).to.deep.equal(['--expose-gc', '--single-threaded-gc', '--initial-old-space-size=1024', '--cpu-prof']);
    expect(nodeArgsFor('worker', ['--initial-old-space-size=256'])).to.deep.equal(['--expose-gc', '--initial-old-space-size=256']);
  });

  it('that every part needs are in the shebang of the dranspose executable, so a hand-started worker runs in one process', () => {
    const shebang = readFileSync(new URL('../bin/dranspose.js', import.meta.url), 'utf8').split('\n')[0];
    expect(shebang.split(' ').slice(3)).to.deep.equal([...nodeFlagsFor('worker')]);
  });
});

describe('received memory', () => {
  it('collects the young generation every 16 MiB received, in a part started with its flags', async () => {
    // a child with a worker's flags (the test process has no exposed gc): it counts its minor collections
    const script = `
      import { PerformanceObserver, constants } from 'node:perf_hooks';
      import { noteReceived } from ${RECEIVED_MEMORY};
      const minor = [];
      const observer = new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) minor.push(entry);
      });
      observer.observe({ entryTypes: ['gc'] });
      // only lengths are read: 160 messages of 1 MiB, in a loop that allocates next to nothing itself
      const frame = { length: 2 ** 20 };
      for (let i = 0; i < 160; i++) noteReceived([frame]);
      setTimeout(() => { observer.disconnect(); console.log(minor.length); }, 100);
    `;
    const counted = await inPart(script);
    expect(Number(counted.trim())).to.be.within(9, 30);
  });
});

describe('freed memory during and after a scan', () => {
  // A child allocates 40 MiB blocks (an Eiger2 9M uint32 frame) one after another, as a worker's
  // decoder does, counts the pages faulted in per block once warm, then ends a scan and reports its
  // resident memory before and 1.5 s after; optionally a frame arrives just after the scan's end.
  const script = `
    import { collectAfterScan, keepFreedMemory, noteReceived } from ${RECEIVED_MEMORY};
    const [keep, frameAfterScan] = process.argv.slice(-2).map((flag) => flag === 'yes');
    if (keep) keepFreedMemory();
    const BLOCK = 40 * 2 ** 20;
    const faults = () => process.resourceUsage().minorPageFault;
    let sum = 0;
    const decodeOne = (i) => { const block = Buffer.allocUnsafeSlow(BLOCK); block.fill(1); sum += block[i]; };
    for (let i = 0; i < 10; i++) decodeOne(i);
    const before = faults();
    for (let i = 0; i < 20; i++) decodeOne(i);
    const faultsPerBlock = (faults() - before) / 20;
    const held = process.memoryUsage().rss;
    collectAfterScan();
    if (frameAfterScan) setTimeout(() => noteReceived([Buffer.alloc(64)]), 100);
    setTimeout(() => console.log(JSON.stringify({ pages: BLOCK / 4096, faultsPerBlock, held, after: process.memoryUsage().rss })), 1500);
  `;
  const runChild = async (keep: boolean, frameAfterScan: boolean) => {
    const stdout = await inPart(script, [keep ? 'yes' : 'no', frameAfterScan ? 'yes' : 'no']);
    return JSON.parse(stdout) as { pages: number; faultsPerBlock: number; held: number; after: number };
  };

  it('is reused for the next frames instead of being faulted in again, where glibc alone maps each block', async function () {
    this.timeout(60_000);
    const kept = await runChild(true, false);
    expect(kept.faultsPerBlock, 'pages faulted in per block, kept').to.be.below(kept.pages / 100);
    const glibcAlone = await runChild(false, false);
    expect(glibcAlone.faultsPerBlock, 'pages faulted in per block, glibc alone').to.be.above(glibcAlone.pages / 2);
  });

  it('goes back to the system after the scan, unless frames arrive again', async function () {
    this.timeout(60_000);
    const released = await runChild(true, false);
    expect(released.held - released.after, 'resident bytes given back').to.be.above(40 * 2 ** 20);
    const frames = await runChild(true, true);
    expect(frames.held - frames.after, 'resident bytes given back with frames arriving').to.be.below(8 * 2 ** 20);
  });
});

describe('memory after start-up', () => {
  it('gives back the young generation that loading modules grew, in a part started with its flags', async function () {
    this.timeout(60_000);
    // a child with a worker's flags loads what a part loads, collects as a ready part does, then
    // waits (up to 40 s) for V8's memory reducer to shrink the young generation
    const script = `
      import v8 from 'node:v8';
      import { collectAfterStart } from ${RECEIVED_MEMORY};
      await Promise.all([import('ioredis'), import('zod'), import('winston'), import('koa')]);
      const young = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').physical_space_size;
      const grown = young();
      collectAfterStart();
      const deadline = Date.now() + 40_000;
      const poll = setInterval(() => {
        if (young() > 2 ** 21 && Date.now() < deadline) return;
        clearInterval(poll);
        console.log(JSON.stringify({ grown, now: young() }));
      }, 200);
    `;
    const stdout = await inPart(script);
    const { grown, now } = JSON.parse(stdout) as { grown: number; now: number };
    expect(grown, 'loading grew the young generation past 4 MiB').to.be.greaterThan(2 ** 22);
    expect(now, 'the young generation after the memory reducer ran').to.be.at.most(2 ** 21);
  });
});


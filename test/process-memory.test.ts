/** The V8 side of the parts: the flags each command starts with, and young collections after large receives. */
import { expect } from 'chai';
import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { nodeArgsFor, nodeFlagsFor } from '../src/core/node-flags.js';
import { noteReceived } from '../src/core/received-memory.js';

describe('node flags of the parts', () => {
  it('give ingesters the heap and GC flags, workers and reducers the heap flag, other commands none', () => {
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
  it('collects the young generation every 16 MiB received, without exposing gc to the process', async () => {
    const minor: PerformanceEntry[] = [];
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) if ((entry as { detail?: { kind: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) minor.push(entry);
    });
    observer.observe({ entryTypes: ['gc'] });
    // only lengths are read: 160 messages of 1 MiB, in a loop that allocates next to nothing itself
    const frame = { length: 2 ** 20 } as unknown as Buffer;
    for (let i = 0; i < 160; i++) noteReceived([frame]);
    await new Promise((r) => setTimeout(r, 100));
    observer.disconnect();
    expect(minor.length).to.be.within(9, 30);
    expect(globalThis).to.not.have.property('gc');
  });
});

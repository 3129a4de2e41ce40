/** The V8 side of the parts: the flags each command starts with, and young collections after large receives. */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { nodeArgsFor, nodeFlagsFor } from '../src/core/node-flags.js';

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
  it('collects the young generation every 16 MiB received, in a part started with its flags', () => {
    // a child with a worker's flags (the test process has no exposed gc): it counts its minor collections
    const script = `
      import { PerformanceObserver, constants } from 'node:perf_hooks';
      import { noteReceived } from ${JSON.stringify(new URL('../src/core/received-memory.ts', import.meta.url).href)};
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
    const counted = execFileSync(process.execPath, [...nodeFlagsFor('worker'), '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(Number(counted.trim())).to.be.within(9, 30);
  });
});

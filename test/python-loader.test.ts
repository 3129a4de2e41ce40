/** Which class specs mean Python, how they travel to other directories, and loading failures as one clear error. */
import { expect } from 'chai';
import { join } from 'node:path';
import { absoluteClassSpec, ClassLoadError, loadWorkerClass } from '../src/core/loader.js';
import { isPythonClassSpec } from '../src/python/interpreter.js';
import { ROOT } from './helpers/pipeline.js';

describe('Python class specs', function () {
  this.timeout(30_000);

  it('tells Python classes from TypeScript ones', function () {
    for (const spec of ['src.worker:CmosWorker', 'worker:W', 'payloads/worker.py:W', '/abs/worker.py:W']) expect(isPythonClassSpec(spec), spec).to.equal(true);
    for (const spec of ['examples/roi/roi.ts:RoiWorker', 'roi.ts:RoiWorker', '/abs/roi.js:W', 'dist/w.mjs:W', 'nocolon']) expect(isPythonClassSpec(spec), spec).to.equal(false);
  });

  it('keeps a dotted module for the working directory and makes file paths absolute', function () {
    expect(absoluteClassSpec('src.worker:CmosWorker', '/etc/pipelines')).to.equal('src.worker:CmosWorker');
    expect(absoluteClassSpec('payloads/worker.py:W', '/etc/pipelines')).to.equal('/etc/pipelines/payloads/worker.py:W');
    expect(absoluteClassSpec('../roi.ts:RoiWorker', '/etc/pipelines')).to.equal('/etc/roi.ts:RoiWorker');
    expect(absoluteClassSpec('/abs/w.py:W', '/etc/pipelines')).to.equal('/abs/w.py:W');
  });

  it('reports an interpreter that cannot start as a ClassLoadError, not a crash', async function () {
    const saved = process.env.DRANSPOSE_PYTHON;
    process.env.DRANSPOSE_PYTHON = '/nonexistent/python3';
    try {
      const error = await loadWorkerClass(join(ROOT, 'test/payloads/python/xrd.py:CornerWorker')).then(() => undefined, (e) => e);
      expect(error).to.be.instanceOf(ClassLoadError);
      expect(error.message).to.match(/cannot start \/nonexistent\/python3 for the Python worker host/);
    } finally {
      if (saved === undefined) delete process.env.DRANSPOSE_PYTHON;
      else process.env.DRANSPOSE_PYTHON = saved;
    }
  });
});

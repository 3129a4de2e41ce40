/**
 * The device State's judgement of component errors: only errors a component counted since it
 * adopted the current scan make it FAULT. The live suites showed the race this guards: a worker's
 * error of one scan reached the registry only with its next state, which already named the next scan.
 */
import { expect } from 'chai';
import type { Controller } from '../src/controller/controller.js';
import { PipelineHealth } from '../src/controller/tango/health.js';
import type { ComponentEntry, Ensemble } from '../src/core/registry.js';

function worker(mapping: string | null, errors: number, scanErrors: number): ComponentEntry {
  return {
    kind: 'worker', name: 'worker-1', service_uuid: 'w1', mapping_uuid: mapping, parameters_hash: null, processed_events: 4,
    errors, scan_errors: scanErrors,
  };
}

/** the parts of a controller the health reads: the registry, and a finished scan without losses */
function controllerWith(ensemble: Ensemble, scanId: string | null): Controller {
  const scan = scanId === null ? null : {
    id: scanId,
    accounting: { losses: { reasons: () => ({}) }, failures: { latest: [] } },
  };
  const progress = { finished: true, outcome: 'complete', missing_frames: 0, bad_frames: 0 };
  return { components: ensemble, scan, progress: () => progress } as unknown as Controller;
}

describe('Tango device State: component errors', () => {
  const assess = (entry: ComponentEntry, scanId: string | null) => {
    const health = new PipelineHealth(controllerWith({ ingesters: [], workers: [entry], reducer: null }, scanId), {
      expected: () => ({ ingesters: [], workers: ['worker-1'], reducer: false }),
    });
    try {
      return health.assess();
    } finally {
      health.close();
    }
  };

  it('is ON when the errors a worker reports came before it adopted the scan, even if they arrive with it', () => {
    expect(assess(worker('scan-2', 1, 0), 'scan-2')).to.deep.equal({ state: 'ON', problems: [] });
  });

  it('is FAULT with the count in Status when the worker erred in this scan', () => {
    expect(assess(worker('scan-2', 3, 2), 'scan-2')).to.deep.equal({ state: 'FAULT', problems: ['worker-1: 2 errors since the scan began'] });
  });

  it("does not count a worker's errors of a scan it is still on when the controller has moved to the next", () => {
    expect(assess(worker('scan-1', 1, 1), 'scan-2').state).to.equal('ON');
  });
});

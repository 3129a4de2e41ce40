/**
 * The device's State: FAULT when a component the pipeline needs is missing, vanished during the
 * scan, or reported errors since the scan began; RUNNING while a scan is unfinished; ALARM when the
 * scan ended with frames missing or unusable (a stream that ended early, bad messages); INIT while
 * an expected component is still starting; ON otherwise. Each reason becomes one line of Status.
 */
import { ensembleEntries, type ComponentEntry } from '../../core/registry.js';
import type { Controller } from '../controller.js';

export type PipelineState = 'ON' | 'RUNNING' | 'FAULT' | 'INIT' | 'ALARM';

/** the components a pipeline is meant to have; `dranspose run` knows them from its configuration */
export interface ExpectedComponents {
  ingesters: string[];
  workers: string[];
  reducer: boolean;
}

export interface Assessment {
  state: PipelineState;
  /** why the state is FAULT or INIT, one line each */
  problems: string[];
}

export interface HealthOptions {
  expected?: () => ExpectedComponents;
  /** how long an expected component may be absent before it counts as missing */
  graceMs?: number;
  /** how often the components' presence is sampled */
  sampleMs?: number;
}

const DEFAULT_GRACE_MS = 15_000;
const DEFAULT_SAMPLE_MS = 250;
const ONLY_REDUCER: ExpectedComponents = { ingesters: [], workers: [], reducer: true };

export class PipelineHealth {
  private readonly missingSince = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly controller: Controller, private readonly options: HealthOptions = {}) {
    this.timer = setInterval(() => this.observe(), options.sampleMs ?? DEFAULT_SAMPLE_MS);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  private entries(): ComponentEntry[] {
    return ensembleEntries(this.controller.components);
  }

  /** notes since when each expected component has been absent */
  private observe(): void {
    const registered = new Set(this.entries().map((e) => `${e.kind}:${e.name}`));
    const expected = this.expectedKeys();
    const now = Date.now();
    for (const key of expected) {
      if (registered.has(key)) this.missingSince.delete(key);
      else if (!this.missingSince.has(key)) this.missingSince.set(key, now);
    }
    for (const key of this.missingSince.keys()) if (!expected.has(key)) this.missingSince.delete(key);
  }

  private expectedKeys(): Set<string> {
    const expected = this.options.expected?.() ?? ONLY_REDUCER;
    return new Set([
      ...expected.ingesters.map((n) => `ingester:${n}`),
      ...expected.workers.map((n) => `worker:${n}`),
      ...(expected.reducer ? ['reducer:reducer'] : []),
    ]);
  }

  assess(): Assessment {
    this.observe();
    const faults: string[] = [];
    const starting: string[] = [];
    const grace = this.options.graceMs ?? DEFAULT_GRACE_MS;
    const now = Date.now();
    for (const [key, since] of this.missingSince) {
      const name = key.slice(key.indexOf(':') + 1);
      if (now - since > grace) faults.push(`${name}: missing (not registered for ${Math.round((now - since) / 1000)} s)`);
      else starting.push(`${name}: starting`);
    }
    const scan = this.controller.scan;
    for (const entry of this.entries()) {
      // a component counts its errors since it adopted its scan: ones of an earlier scan that reach
      // the registry late are not this scan's
      const errors = scan && entry.mapping_uuid === scan.id ? Number(entry.scan_errors ?? 0) : 0;
      if (errors > 0) faults.push(`${entry.name}: ${errors} error${errors === 1 ? '' : 's'} since the scan began`);
    }
    if (scan) {
      const { losses, failures } = scan.accounting;
      for (const [reason, count] of Object.entries(losses.reasons())) faults.push(`${count} events lost: ${reason}`);
      const failed = failures.latest[0];
      if (failed) faults.push(`first failed event ${failed.event} (${failed.component}): ${failed.reason}`);
    }
    if (faults.length) return { state: 'FAULT', problems: [...faults, ...starting] };
    const progress = this.controller.progress();
    if (scan && !progress.finished) return { state: 'RUNNING', problems: starting };
    // a scan that ended with frames missing or unusable: the pipeline is fine, the scan's data is not whole
    if (scan && progress.outcome === 'complete_with_errors') {
      const what = [[progress.missing_frames, 'missing frames'], [progress.bad_frames, 'bad frames']].filter(([n]) => Number(n) > 0).map(([n, w]) => `${n} ${w}`);
      return { state: 'ALARM', problems: [`the scan ended with errors: ${what.join(', ') || 'see /api/v1/status'}`, ...starting] };
    }
    return { state: starting.length ? 'INIT' : 'ON', problems: starting };
  }
}

/**
 * Each component's life as the controller saw it (`GET /api/v1/components`): up, restarted (a new
 * process under the same name: a new service_uuid) or gone (its registry entry went stale). Read
 * from the ensemble whenever asked; a restart shows in the service_uuid however rarely one looks.
 */
import { ensembleEntries, type ComponentEntry, type Ensemble } from '../core/registry.js';
import type { ComponentState } from './api-schemas.js';

/** how long after a restart a component shows as restarted rather than up */
const RESTART_SHOWN_MS = 60_000;

const number = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

export class ComponentWatch {
  private readonly known = new Map<string, ComponentState & { restartedMs: number }>();

  constructor(private readonly ensemble: () => Ensemble) {}

  private see(entry: ComponentEntry, now: number): void {
    const component = `${entry.kind}:${entry.name}`;
    const seen = new Date(number(entry.seen) || now).toISOString();
    let state = this.known.get(component);
    if (!state) {
      state = {
        component, kind: entry.kind, name: entry.name, state: 'up', service_uuid: entry.service_uuid, restarts: 0,
        first_seen: seen, restarted_at: null, last_seen: seen, processed_events: 0, errors: 0, event_rate: 0, restartedMs: 0,
      };
      this.known.set(component, state);
    } else if (state.service_uuid !== entry.service_uuid || state.state === 'gone') {
      state.restarts += 1;
      state.restartedMs = now;
      state.restarted_at = new Date(now).toISOString();
      state.service_uuid = entry.service_uuid;
    }
    state.last_seen = seen;
    state.processed_events = number(entry.processed_events);
    state.errors = number(entry.errors);
    state.event_rate = number(entry.event_rate);
    state.state = now - state.restartedMs < RESTART_SHOWN_MS ? 'restarted' : 'up';
  }

  /** every component seen since the controller started, in registry order, the gone ones last */
  states(): ComponentState[] {
    const now = Date.now();
    const alive = new Set<string>();
    for (const entry of ensembleEntries(this.ensemble())) {
      this.see(entry, now);
      alive.add(`${entry.kind}:${entry.name}`);
    }
    for (const [component, state] of this.known) if (!alive.has(component)) state.state = 'gone';
    return [...this.known.values()]
      .sort((a, b) => Number(a.state === 'gone') - Number(b.state === 'gone'))
      .map(({ restartedMs: _restartedMs, ...state }) => state);
  }
}

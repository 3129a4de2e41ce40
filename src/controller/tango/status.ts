/**
 * The Status text in the form of the original's Tango device: problems first, then one line per
 * component (`Worker-x, tags: ['generic'], last:133, evs:19, ld10: 0.06, ld: 0.09`), then the counts.
 */
import type { IntervalLoad, WorkerLoad } from '../load.js';
import type { Controller } from '../controller.js';
import type { Assessment } from './health.js';
import { pyList } from '../../core/mapping/pyrepr.js';

/** the load window of the `evs`/`ld10` columns, in events */
const RECENT_EVENTS = 10;

export type LoadReport = ReturnType<WorkerLoad['report']>;
export type Progress = ReturnType<Controller['progress']>;

/** what Status is made of, taken once per request */
export interface StatusView {
  readonly assessment: Assessment;
  readonly load: LoadReport;
  readonly progress: Progress;
}

/** per worker: the recent window of Status and the whole scan (`intervals.scan`) */
export function pipelineLoad(controller: Controller): LoadReport {
  return controller.scan?.load.report([RECENT_EVENTS], true) ?? {};
}

export function loadRatio(load: IntervalLoad | undefined): number {
  return load && load.total > 0 ? load.active / load.total : 0;
}

export function statusText(controller: Controller, view: StatusView): string {
  const { ingesters, workers, reducer } = controller.components;
  const lines = [...view.assessment.problems];
  for (const ingester of ingesters) lines.push(`${ingester.name}, streams: ${pyList(ingester.streams ?? [])}`);
  for (const worker of workers) {
    const own = view.load[worker.name];
    const recent = own?.intervals[String(RECENT_EVENTS)];
    const last = own?.last_event ?? worker.last_event ?? 'None';
    lines.push(`${worker.name}, tags: ${pyList(worker.tags ?? ['generic'])}, last:${last}, evs:${recent?.events ?? 0}, `
      + `ld10: ${loadRatio(recent).toFixed(2)}, ld: ${loadRatio(own?.intervals.scan).toFixed(2)}`);
  }
  if (reducer) lines.push(reducer.name);
  const bad = controller.scan?.accounting.bad;
  if (bad?.total) lines.push(`bad frames: ${bad.total}, first at event ${bad.latest[0].event} (${bad.latest[0].component}): ${bad.latest[0].reason}`);
  lines.push(`completedEvents ${view.progress.completed_events} totalEvents ${view.progress.total_events}`);
  return lines.join('\n');
}

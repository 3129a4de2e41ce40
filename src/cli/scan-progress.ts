/**
 * A progress bar for each scan the controller runs (`dranspose run`, `dranspose demo`), drawn with
 * startProgress, so log lines print above it instead of through it.
 */
import type { Controller } from '../controller/controller.js';
import { startProgress, type Progress } from './progress.js';

const EVERY_MS = 200;

/** until stop(): a bar for the running scan, ended when it finishes or another one starts */
export function showScanProgress(controller: Controller): { stop(): void } {
  let bar: { id: string; progress: Progress } | undefined;
  /** the last scan a bar was ended for: a finished scan gets no second one */
  let done: string | undefined;
  const end = () => {
    if (!bar) return;
    bar.progress.stop();
    done = bar.id;
    bar = undefined;
  };
  const timer = setInterval(() => {
    const scan = controller.scan;
    if (bar && bar.id !== scan?.id) end();
    if (!scan || done === scan.id) return;
    const p = controller.progress();
    bar ??= { id: scan.id, progress: startProgress(`scan ${scan.id.slice(0, 8)}`, { unit: 'events', total: p.total_events }) };
    bar.progress.update(p.completed_events, p.total_events);
    if (p.finished) end();
  }, EVERY_MS);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      end();
    },
  };
}

/** Events completed per second over the last few seconds, from samples of the controller's progress. */
import type { Controller } from '../controller.js';

const SAMPLE_MS = 500;

export class EventRate {
  static readonly WINDOW_S = 5;
  private samples: { at: number; completed: number; scan: string | null }[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly controller: Controller) {
    this.timer = setInterval(() => this.sample(), SAMPLE_MS);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  private sample(): void {
    const scan = this.controller.scan?.id ?? null;
    const now = { at: Date.now(), completed: this.controller.progress().completed_events, scan };
    // a new scan starts counting afresh
    this.samples = [...this.samples.filter((s) => s.scan === scan && now.at - s.at <= EventRate.WINDOW_S * 1000), now];
  }

  perSecond(): number {
    this.sample();
    const first = this.samples[0]!;
    const last = this.samples[this.samples.length - 1]!;
    const seconds = (last.at - first.at) / 1000;
    return seconds > 0 ? (last.completed - first.completed) / seconds : 0;
  }
}

/** A TypeScript reducer that keeps every result's payload by event number (for results of Python workers). */
import type { ResultData } from '../../src/core/types.js';

export class CollectReducer {
  publish: { results: Record<string, unknown[]> } = { results: {} };

  processResult(result: ResultData): void {
    (this.publish.results[result.eventNumber] ??= []).push(result.payload);
  }
}

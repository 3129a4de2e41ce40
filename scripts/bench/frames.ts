/**
 * Benchmark upstream: STINS image messages of a given payload size. The payload buffer is built
 * once and shared by every message (never modified, so zmq may keep it queued safely); frame 0
 * carries `t`, the send time in ms on the shared wall clock, for latency.
 */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

export interface FrameSet {
  header(): Buffer;
  image(frame: number): Buffer[];
  end(frame: number): Buffer;
}

export function frameSet(payloadBytes: number): FrameSet {
  const payload = Buffer.alloc(payloadBytes, 7);
  const shape = [payloadBytes];
  return {
    header: () => Buffer.from(JSON.stringify({ htype: 'header', filename: '', msg_number: 0 })),
    image: (frame) => [
      Buffer.from(JSON.stringify({ htype: 'image', frame, shape, type: 'uint8', compression: 'none', msg_number: frame + 1, t: now() })),
      payload,
    ],
    end: (frame) => Buffer.from(JSON.stringify({ htype: 'series_end', msg_number: frame + 2 })),
  };
}

/** the latency summary the reducers of both chains report */
export function percentiles(values: number[]): { p50: number; p99: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99) };
}

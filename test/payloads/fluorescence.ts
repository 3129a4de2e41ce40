/**
 * Test classes for the scanning protocols: a live fluorescence map from Contrast positions and
 * Xspress3 spectra (the original's FluorescenceWorker/Reducer, protocols.md §5 A), and a worker
 * that summarises whatever Contrast, Xspress3 and AlbaEM frames an event holds.
 */
import type { EventData, NDArray, ParameterDescription, Parameters, ResultData, StreamData } from '../../src/index.js';
import { albaem, contrast, xspress3 } from '../../src/index.js';

function streamOfTyp(event: EventData, typ: string): StreamData | undefined {
  return Object.values(event.streams).find((s) => s.typ === typ);
}

/** sum of bins [start, stop) of the last channel of [channels, bins] spectra: numpy's `spectra[-1][start:stop].sum()` */
function lastChannelSum(spectra: NDArray, start: number, stop: number): number {
  const [channels, bins] = spectra.shape;
  const offset = (channels - 1) * bins;
  let sum = 0;
  for (let b = Math.max(0, start); b < Math.min(stop, bins); b++) sum += Number(spectra.data[offset + b]);
  return sum;
}

export interface MapPoint { x: number; y: number; roi1: number }

export class FluorescenceWorker {
  static describeParameters(): ParameterDescription[] {
    return [{ name: 'roi1', dtype: 'str', description: 'JSON [start, stop): bins of the last channel summed', default: '[0,10]' }];
  }

  processEvent(event: EventData, parameters: Parameters): MapPoint | undefined {
    const scan = streamOfTyp(event, contrast.typ);
    const spectra = streamOfTyp(event, xspress3.typ);
    if (!scan || !spectra) return undefined;
    const point = contrast.parse(scan);
    if (point.status !== 'running') return undefined;
    const packet = xspress3.parse(spectra);
    if (packet.kind !== 'image') throw new Error(`event ${event.eventNumber}: a running Contrast point without an Xspress3 image`);
    const [start, stop] = JSON.parse(String(parameters.roi1.value)) as [number, number];
    const pseudo = point.pseudo as Record<string, NDArray>;
    return { x: Number(pseudo.x.data[0]), y: Number(pseudo.y.data[0]), roi1: lastChannelSum(packet.spectra, start, stop) };
  }
}

export class FluorescenceReducer {
  publish = { map: { x: [] as number[], y: [] as number[], data: { roi1: [] as number[] } } };

  /** event numbers of the map's points, ascending: results arrive in any order across workers */
  private readonly events: number[] = [];

  processResult(result: ResultData<MapPoint>): void {
    let at = this.events.length;
    while (at > 0 && this.events[at - 1] > result.eventNumber) at--;
    this.events.splice(at, 0, result.eventNumber);
    const { map } = this.publish;
    map.x.splice(at, 0, result.payload.x);
    map.y.splice(at, 0, result.payload.y);
    map.data.roi1.splice(at, 0, result.payload.roi1);
  }
}

export type StreamSummary =
  | { typ: 'contrast'; status: string; dt?: number; x?: number }
  | { typ: 'xspress'; kind: string; frame?: number; sums?: number[]; allGood?: number[]; metaArrays?: number }
  | { typ: 'albaem'; message_type: string; message_id: number; frame_number?: number; acquisition_timestamp?: bigint; channel1?: number };

function summarise(data: StreamData): StreamSummary | undefined {
  switch (data.typ) {
    case contrast.typ: {
      const message = contrast.parse(data);
      if (message.status !== 'running') return { typ: 'contrast', status: message.status };
      const pseudo = message.pseudo as Record<string, NDArray> | undefined;
      return { typ: 'contrast', status: message.status, dt: message.dt, ...(pseudo ? { x: Number(pseudo.x.data[0]) } : {}) };
    }
    case xspress3.typ: {
      const packet = xspress3.parse(data);
      if (packet.kind !== 'image') return { typ: 'xspress', kind: packet.kind };
      const [channels, bins] = packet.spectra.shape;
      const sums = Array.from({ length: channels }, (_, c) => {
        let sum = 0;
        for (let b = 0; b < bins; b++) sum += Number(packet.spectra.data[c * bins + b]);
        return sum;
      });
      return {
        typ: 'xspress', kind: 'image', frame: packet.header.frame, sums, allGood: Array.from(packet.meta.AllGood.data, Number),
        metaArrays: Object.keys(packet.meta).length,
      };
    }
    case albaem.typ: {
      const message = albaem.parse(data);
      if (message.message_type !== 'data') return { typ: 'albaem', message_type: message.message_type, message_id: message.message_id };
      const { message_type, message_id, frame_number, acquisition_timestamp, channel1 } = message;
      return { typ: 'albaem', message_type, message_id, frame_number, acquisition_timestamp, channel1 };
    }
    default:
      return undefined;
  }
}

/** What each stream of an event held, parsed by its protocol. */
export class StreamSummaryWorker {
  processEvent(event: EventData): Record<string, StreamSummary | undefined> {
    return Object.fromEntries(Object.entries(event.streams).map(([name, data]) => [name, summarise(data)]));
  }
}

/** Every result by event number (start and end events reach every worker, so lists). */
export class EventLogReducer {
  publish: { events: Record<string, unknown[]> } = { events: {} };

  processResult(result: ResultData): void {
    (this.publish.events[result.eventNumber] ??= []).push(result.payload);
  }
}

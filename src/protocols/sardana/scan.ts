/**
 * One Sardana scan as the ingester sees it: data_desc, the record_data points, record_end. POSTs
 * that are not valid packets are counted and skipped; custom_data is ignored.
 */
import { scanSeries, type SeriesRules } from '../series.js';
import type { MessageReader, SourceContext, UpstreamItems } from '../types.js';
import { readSardanaPacket, readSardanaPost, SARDANA_TYP, type SardanaPacket } from './messages.js';

const ROLES = { DataDescription: 'start', RecordData: 'data', RecordEnd: 'end' } as const;

const rules: SeriesRules<SardanaPacket> = {
  typ: SARDANA_TYP,
  label: 'Sardana',
  read: readSardanaPacket,
  role: (packet) => ROLES[packet.type],
  // a record's point_nb places it; a record without one takes the next event
  frameNumber: (packet) => {
    const point = (packet as { point_nb?: unknown }).point_nb;
    return Number.isSafeInteger(point) && (point as number) >= 0 ? point as number : undefined;
  },
};

/** the POSTs as the frames to forward: one JSON packet each */
function packets(posts: MessageReader, ctx: SourceContext): MessageReader {
  return {
    async next() {
      for (let post = await posts.next(); post !== undefined; post = await posts.next()) {
        try {
          const packet = readSardanaPost(post);
          if (packet) return [packet];
        } catch (error) {
          ctx.bad((error as Error).message);
        }
      }
      return undefined;
    },
  };
}

export function scanSardana(reader: MessageReader, ctx: SourceContext): UpstreamItems {
  return scanSeries(rules, packets(reader, ctx), ctx);
}

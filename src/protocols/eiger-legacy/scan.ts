/** One Eiger legacy series as the ingester sees it (protocols.md §1.2): header, images, series end. */
import { numberInJsonFrame } from '../json-frame.js';
import { scanSeries, type SeriesRules } from '../series.js';
import type { MessageReader, SourceContext, UpstreamItems } from '../types.js';
import { EIGER_LEGACY_TYP, readEigerLegacyMessage, type EigerLegacyImageHeader, type EigerLegacyMessage } from './messages.js';

const ROLES = { 'dheader-1.0': 'start', 'dimage-1.0': 'data', 'dseries_end-1.0': 'end' } as const;

/** Frame 0 and the frame count are checked; the other parts are not parsed here. */
const rules: SeriesRules<EigerLegacyMessage> = {
  typ: EIGER_LEGACY_TYP,
  label: 'Eiger legacy',
  read: readEigerLegacyMessage,
  role: (message) => ROLES[message.htype],
  frameNumber: (message) => (message as EigerLegacyImageHeader).frame,
  frameOfRejected: (frames) => numberInJsonFrame(frames, 'frame'),
};

export function scanEigerLegacy(reader: MessageReader, ctx: SourceContext): UpstreamItems {
  return scanSeries(rules, reader, ctx);
}

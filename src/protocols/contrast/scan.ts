/**
 * One Contrast scan as the ingester sees it (protocols.md §2.4): started, one running message per
 * point, finished or interrupted. Heartbeats come every 10 s whatever happens and are skipped.
 */
import { scanSeries, type MessageRole, type SeriesRules } from '../series.js';
import type { MessageReader, SourceContext, UpstreamItem } from '../types.js';
import { CONTRAST_TYP, readContrastMessage, type ContrastMessage } from './messages.js';

const ROLES: Record<ContrastMessage['status'], MessageRole> = {
  started: 'start', running: 'data', finished: 'end', interrupted: 'end', heartbeat: 'ignore',
};

const rules: SeriesRules<ContrastMessage> = {
  typ: CONTRAST_TYP,
  label: 'Contrast',
  read: readContrastMessage,
  role: (message) => ROLES[message.status],
};

export function scanContrast(reader: MessageReader, ctx: SourceContext): AsyncGenerator<UpstreamItem> {
  return scanSeries(rules, reader, ctx);
}

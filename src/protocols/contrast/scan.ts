/**
 * One Contrast scan as the ingester sees it (protocols.md §2.4): started, one running message per
 * point, finished or interrupted. Heartbeats come every 10 s whatever happens and are skipped.
 */
import { scanSeries, type MessageRole, type SeriesRules } from '../series.js';
import type { MessageReader, SourceContext, UpstreamItems } from '../types.js';
import { loadPickle } from '../../core/pickle/read.js';
import { CONTRAST_TYP, readContrastMessage, type ContrastMessage } from './messages.js';

const ROLES: Record<ContrastMessage['status'], MessageRole> = {
  started: 'start', running: 'data', finished: 'end', interrupted: 'end', heartbeat: 'ignore',
};

const rules: SeriesRules<ContrastMessage> = {
  typ: CONTRAST_TYP,
  label: 'Contrast',
  read: readContrastMessage,
  role: (message) => ROLES[message.status],
  // Contrast records carry no point number: a record that unpickles and says `running` is a point
  // even when its content is wrong, and keeps its place; bytes that are no record do not
  isRejectedPoint: (frames) => {
    try {
      return (loadPickle(frames[0]) as { status?: unknown })?.status === 'running';
    } catch {
      return false;
    }
  },
};

export function scanContrast(reader: MessageReader, ctx: SourceContext): UpstreamItems {
  return scanSeries(rules, reader, ctx);
}

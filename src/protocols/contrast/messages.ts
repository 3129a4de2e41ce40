/**
 * Contrast scan messages (protocols.md §2.4, tango.md §5): every message is one frame holding a
 * pickled dict whose `status` says what it is: started, running (one per scan point, an
 * OrderedDict), finished or interrupted, and heartbeat.
 */
import { z } from 'zod';
import { checkFrameCount, loadPickleFrame, validate } from '../json-frame.js';

export const CONTRAST_TYP = 'contrast';

/**
 * All optional, and None where Contrast leaves them unset: `description` is the macro's command line
 * only for scans typed at its IPython prompt (`_command = None  # updated if run via macro` in
 * contrast/scans/Scan.py), so scans run from a script or a GUI send None.
 */
const scanFields = {
  path: z.string().nullish(),
  scannr: z.int().nullish(),
  description: z.string().nullish(),
  /** motor name → position at the start or end of the scan */
  snapshot: z.record(z.string(), z.unknown()).nullish(),
};

export const contrastStartedSchema = z.looseObject({ status: z.literal('started'), ...scanFields });

/** besides `dt` (seconds since the start), one entry per motor and detector of the scan */
export const contrastRunningSchema = z.looseObject({ status: z.literal('running'), dt: z.number() });

export const contrastFinishedSchema = z.looseObject({ status: z.enum(['finished', 'interrupted']), ...scanFields });

export const contrastHeartbeatSchema = z.looseObject({ status: z.literal('heartbeat') });

export const contrastMessageSchema = z.discriminatedUnion('status', [
  contrastStartedSchema, contrastRunningSchema, contrastFinishedSchema, contrastHeartbeatSchema,
]);

export type ContrastStarted = z.infer<typeof contrastStartedSchema>;
export type ContrastRunning = z.infer<typeof contrastRunningSchema>;
export type ContrastFinished = z.infer<typeof contrastFinishedSchema>;
export type ContrastHeartbeat = z.infer<typeof contrastHeartbeatSchema>;
export type ContrastMessage = z.infer<typeof contrastMessageSchema>;

export class ContrastError extends Error {
  override name = 'ContrastError';
}

/** Unpickles and checks one Contrast message; throws a ContrastError naming what is wrong. */
export function readContrastMessage(frames: readonly Buffer[]): ContrastMessage {
  checkFrameCount(frames, 1, 'Contrast message', ContrastError);
  const value = loadPickleFrame(frames[0], 'Contrast message', ContrastError);
  validate(contrastMessageSchema, value, 'Contrast message', ContrastError);
  // the schemas only check (no defaults or transforms): the unpickled dict itself keeps Contrast's key order
  return value as ContrastMessage;
}

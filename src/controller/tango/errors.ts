/** Tango failures as the REST API v1.1 reports them: a list of errors with `quality: FAILURE`. */

export interface TangoErrorItem {
  reason: string;
  description: string;
  severity: 'WARN' | 'ERR' | 'PANIC';
  origin: string;
}

export interface TangoFailure {
  errors: TangoErrorItem[];
  quality: 'FAILURE';
  timestamp: number;
}

/**
 * A refused read, write or command. `status` is the HTTP answer: 400 for Tango failures (the spec's
 * rule), 404 for an unknown device, attribute or command.
 */
export class TangoError extends Error {
  constructor(readonly reason: string, description: string, readonly origin: string, readonly status = 400) {
    super(description);
  }

  toFailure(): TangoFailure {
    return { errors: [{ reason: this.reason, description: this.message, severity: 'ERR', origin: this.origin }], quality: 'FAILURE', timestamp: Date.now() };
  }
}

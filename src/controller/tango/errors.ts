/** Tango failures as the REST API v1.1 reports them: a list of errors with `quality: FAILURE`. */
import { HttpError } from '../../core/http/errors.js';

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
 * A refused read, write or command. `status` is the HTTP answer: 400 for Tango failures and for an
 * unknown device, attribute or command (the spec's rule), 416 for a range that cannot be satisfied.
 */
export class TangoError extends HttpError {
  constructor(readonly reason: string, description: string, readonly origin: string, status = 400) {
    super(status, description);
  }

  override body(): TangoFailure {
    return this.toFailure();
  }

  toFailure(): TangoFailure {
    return { errors: [{ reason: this.reason, description: this.message, severity: 'ERR', origin: this.origin }], quality: 'FAILURE', timestamp: Date.now() };
  }
}

/** A request the result API refuses: the HTTP status and the `detail` the client is shown. */
import { HttpError } from '../../core/http/errors.js';

export class ResultError extends HttpError {
  constructor(status: number, detail: string) {
    super(status, detail);
    this.name = 'ResultError';
  }
}

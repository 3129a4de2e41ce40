/** A trigger map that cannot be accepted; the message is the `detail` of the HTTP 400 answer. */
import { HttpError } from '../http/errors.js';

export class MappingError extends HttpError {
  constructor(detail: string) {
    super(400, detail);
    this.name = 'MappingError';
  }
}

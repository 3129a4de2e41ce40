/** A request the result API refuses: the HTTP status and the `detail` the client is shown. */
export class ResultError extends Error {
  constructor(readonly status: 400 | 404 | 406, detail: string) {
    super(detail);
    this.name = 'ResultError';
  }
}

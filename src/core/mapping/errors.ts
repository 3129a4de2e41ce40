/** A trigger map that cannot be accepted; the message is the `detail` of the HTTP 400 answer. */
export class MappingError extends Error {
  override name = 'MappingError';
}

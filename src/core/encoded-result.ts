/**
 * A result that is already in the worker → reducer wire encoding (CBOR): a Python worker's result
 * arrives encoded from its payload host, and the worker forwards these bytes as they are.
 */
export class EncodedResult {
  constructor(readonly body: Buffer) {}
}

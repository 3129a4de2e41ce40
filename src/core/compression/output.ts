/**
 * A fresh array for a decoder's whole output, left uninitialized: a successful decode writes every
 * byte, and zero-filling the array first cost 11% of a bslz4 decode of a 1 MiB frame. Its own
 * ArrayBuffer starting at offset 0, so any typed-array view of the pixels is aligned.
 */
export function outputBytes(length: number): Uint8Array {
  const buffer = Buffer.allocUnsafeSlow(length);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, length);
}

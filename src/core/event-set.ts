/**
 * A set of event numbers of one scan as a bitmap: one bit per event, grown as needed (125 kB for a
 * million events, where a Set of numbers costs tens of megabytes).
 */
export class EventSet {
  private bits = new Uint8Array(1024);
  private count = 0;

  get size(): number { return this.count; }

  has(event: number): boolean {
    const byte = event >>> 3;
    return byte < this.bits.length && (this.bits[byte] & (1 << (event & 7))) !== 0;
  }

  /** true when the event was not in the set */
  add(event: number): boolean {
    const byte = event >>> 3;
    if (byte >= this.bits.length) {
      const grown = new Uint8Array(Math.max(byte + 1, this.bits.length * 2));
      grown.set(this.bits);
      this.bits = grown;
    }
    const mask = 1 << (event & 7);
    if (this.bits[byte] & mask) return false;
    this.bits[byte] |= mask;
    this.count += 1;
    return true;
  }

  clear(): void {
    this.bits = new Uint8Array(1024);
    this.count = 0;
  }
}

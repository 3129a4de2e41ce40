/** The not yet consumed bytes of a chunked stream, handed out item by item without needless copies. */
export class ChunkQueue {
  private chunks: Buffer[] = [];
  /** index of the first unconsumed chunk, and the read position inside it */
  private first = 0;
  private head = 0;
  /** last chunk found by byteAt and its start relative to the queue front, so increasing lookups are cheap */
  private cursor = 0;
  private cursorStart = 0;
  length = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** the byte at `index` from the front of the queue (index < length) */
  byteAt(index: number): number {
    if (index < this.cursorStart) {
      this.cursor = this.first;
      this.cursorStart = 0;
    }
    let i = index - this.cursorStart + (this.cursor === this.first ? this.head : 0);
    while (i >= this.chunks[this.cursor].length) {
      const skipped = this.chunks[this.cursor].length - (this.cursor === this.first ? this.head : 0);
      i -= this.chunks[this.cursor].length;
      this.cursorStart += skipped;
      this.cursor += 1;
    }
    return this.chunks[this.cursor][i];
  }

  /** Removes the first `n` bytes: a view when they lie in one chunk, else one copy into a buffer of exactly n bytes. */
  take(n: number): Buffer {
    if (n > this.length) throw new RangeError(`take(${n}) from a queue of ${this.length} bytes`);
    const front = this.chunks[this.first];
    let out: Buffer;
    if (this.head + n <= front.length) {
      out = front.subarray(this.head, this.head + n);
      this.advance(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const chunk = this.chunks[this.first];
        const count = Math.min(n - filled, chunk.length - this.head);
        chunk.copy(out, filled, this.head, this.head + count);
        filled += count;
        this.advance(count);
      }
    }
    this.cursor = this.first;
    this.cursorStart = 0;
    return out;
  }

  /** consumes n bytes of the front chunk */
  private advance(n: number): void {
    this.head += n;
    this.length -= n;
    if (this.head < this.chunks[this.first].length) return;
    this.first += 1;
    this.head = 0;
    // drop consumed chunks so they can be collected; halving keeps this O(1) per chunk
    if (this.first * 2 >= this.chunks.length) {
      this.chunks.splice(0, this.first);
      this.first = 0;
    }
  }
}

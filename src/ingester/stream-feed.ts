/**
 * One upstream stream during one scan, read slot by slot: slot k is the stream's k-th entry in the
 * trigger map (slot 0 holds the start message). A data message goes to the slot its frame number
 * names, where the protocol numbers frames, else to the next one; so a message that is lost or
 * broken leaves its own slot missing and never shifts the later ones into other events. An end
 * message goes to the stream's last slot wherever it arrives; the slots it skipped are missing.
 * Frame numbers count from 0 (slot 1). Some detectors count again from 0 within a series (the
 * Xspress3-mini numbers the frames of each line of a mesh anew): a number lower than the last one
 * placed restarts the count at the slot being filled.
 */
import type { StreamData } from '../core/types.js';
import type { UpstreamItem, UpstreamItems } from '../protocols/types.js';

/** what fills one slot: the stream's data, or why it is missing */
export type SlotFill = { data: StreamData } | { missing: string };

export interface FeedEvents {
  /** a message that belongs to no slot (arrived after its slot, or a duplicate): counted by the ingester */
  bad(reason: string): void;
  warn?(message: string): void;
}

export class StreamFeed {
  private peeked?: UpstreamItem;
  /** a broken message for the slot being filled, held until the next one shows whether a good copy follows */
  private broken?: { reason: string };
  /** the end message, once it came before the last slot */
  private endMessage?: StreamData;
  private endedBecause?: string;
  /** the slot after the last one filled (where a restarted ingester would go on) */
  private filledUpTo = 0;
  /** slot of frame number 0 */
  private frameBase = 1;
  private lastFrame = -1;
  private renumbered = false;

  constructor(private readonly items: UpstreamItems, private readonly events: FeedEvents) {}

  /**
   * The fill of `slot`; `last` when it is the stream's last slot in the map (where the end message
   * goes). Synchronous when the messages it needs have been received (a backlog costs no await per
   * event); a promise when it must wait for the upstream.
   */
  fill(slot: number, last: boolean): SlotFill | Promise<SlotFill> {
    if (this.endMessage) {
      if (!last) return { missing: 'the upstream ended the series before this event' };
      const data = this.endMessage;
      this.endMessage = undefined;
      this.endedBecause = 'the series already ended';
      return { data };
    }
    for (;;) {
      if (this.endedBecause && !this.broken) return { missing: this.endedBecause };
      const item = this.peeked ?? (this.peeked = this.items.ready?.());
      if (this.broken) {
        // a good copy of the same frame right after a broken one wins (a retransmission)
        if (!item && !this.endedBecause) return this.waitAndFill(slot, last);
        const broken = this.broken;
        this.broken = undefined;
        if (item?.kind === 'data' && item.frame !== undefined && this.slotOf(item, slot) === slot) {
          this.events.bad(broken.reason);
          continue;
        }
        this.filledUpTo = Math.max(this.filledUpTo, slot + 1);
        return { missing: broken.reason };
      }
      if (!item) return this.waitAndFill(slot, last);
      if (item.kind === 'end') {
        this.peeked = undefined;
        if (last) {
          this.endedBecause = 'the series already ended';
          return { data: item.data };
        }
        this.endMessage = item.data;
        return { missing: 'the upstream ended the series before this event' };
      }
      const itemSlot = this.slotOf(item, slot);
      if (itemSlot === undefined) {
        // bytes that are no message of the protocol: they belong nowhere
        this.peeked = undefined;
        this.events.bad((item as { reason: string }).reason);
        continue;
      }
      if (itemSlot < slot) {
        this.peeked = undefined;
        this.events.bad(item.kind === 'bad' ? item.reason
          : `${item.kind === 'start' ? 'a start message' : `frame ${(item as { frame?: number }).frame ?? '(unnumbered)'}`} arrived after its event had gone (or twice); dropped`);
        continue;
      }
      if (itemSlot > slot) {
        const what = item.kind === 'data' && item.frame !== undefined ? `frame ${item.frame}` : 'a later message';
        return { missing: `its frame never arrived (the upstream sent ${what} next)` };
      }
      this.peeked = undefined;
      if (item.kind === 'bad') {
        this.broken = item;
        continue;
      }
      this.filledUpTo = Math.max(this.filledUpTo, slot + 1);
      return item;                                                  // a data or start item: it holds `data`
    }
  }

  /** `fill` once the upstream's next item is here (or it ended) */
  private async waitAndFill(slot: number, last: boolean): Promise<SlotFill> {
    try {
      const next = await this.items.next();
      if (next.done) this.endedBecause = 'the upstream closed before the trigger map ended';
      else this.peeked = next.value;
    } catch (error) {
      this.endedBecause = `the upstream failed: ${(error as Error).message}`;
    }
    return this.fill(slot, last);
  }

  /** the slot an item belongs to (a message without a number: the one asked for); undefined when none */
  private slotOf(item: UpstreamItem, asked: number): number | undefined {
    if (item.kind === 'start') return 0;
    const frame = (item as { frame?: number }).frame;
    if (frame !== undefined) {
      if (frame < this.lastFrame) {
        if (!this.renumbered) this.events.warn?.(`frame numbers went back from ${this.lastFrame} to ${frame}: taken as the detector counting anew`);
        this.renumbered = true;
        this.frameBase = asked - frame;
      }
      this.lastFrame = frame;
      return frame + this.frameBase;
    }
    if (item.kind === 'bad' && !item.point) return undefined;
    return asked;
  }

  /** the slot after the last one filled (kept for a restarted ingester) */
  get position(): number {
    return this.filledUpTo;
  }
}

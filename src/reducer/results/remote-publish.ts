/**
 * Where the result API reads `publish` from: the reducer's own object (a TypeScript reducer), or a
 * publish held in another process (a Python reducer) that answers reads of one path, as CBOR. An
 * outline read gives a group's children without their data (sub-groups as {}, datasets as null,
 * `<key>_attrs` dicts whole), which is all the HDF5 REST API needs to list a group.
 */
import { isRecord } from '../../core/encodable.js';
import { decodeCbor } from './cbor.js';

export type ReadOutcome = { found: true; value: unknown } | { found: false; reason: string };
export type PublishRead = (path: readonly string[], outline: boolean) =>
  Promise<{ found: true; body: Buffer } | { found: false; reason: string }>;

export interface PublishView {
  read(path: readonly string[], outline: boolean): Promise<ReadOutcome>;
}

export class RemotePublish implements PublishView {
  constructor(private readonly readBody: PublishRead) {}

  async read(path: readonly string[], outline: boolean): Promise<ReadOutcome> {
    const answer = await this.readBody(path, outline);
    return answer.found ? { found: true, value: decodeCbor(answer.body) } : answer;
  }
}

/** A plain publish object read in place: an outline is the subtree itself, since nothing is copied. */
class LocalPublish implements PublishView {
  constructor(private readonly publish: unknown) {}

  async read(path: readonly string[]): Promise<ReadOutcome> {
    let node = this.publish;
    for (const step of path) {
      const container = Array.isArray(node) || isRecord(node);
      if (!container || !Object.hasOwn(node as object, step)) return { found: false, reason: `nothing published at ${JSON.stringify(step)}` };
      node = (node as Record<string, unknown>)[step];
    }
    return { found: true, value: node };
  }
}

export function publishView(publish: unknown): PublishView {
  return publish instanceof RemotePublish ? publish : new LocalPublish(publish);
}

/** The whole publish as values (for writing it out at the end of a replay). */
export async function readWholePublish(publish: unknown): Promise<unknown> {
  const outcome = await publishView(publish).read([], false);
  return outcome.found ? outcome.value : undefined;
}

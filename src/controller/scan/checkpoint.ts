/**
 * What a restarted controller needs to drive a running scan to its end. The routing state is in
 * the scan's assignment stream itself (every route, reassignment and completion, each entry with
 * the report cursor it was written at); the counts are in a checkpoint written with an entry about
 * once a second. A restarted controller folds the stream, takes the checkpoint, and reads the
 * reports from the checkpoint's cursor on.
 */
import type { Redis } from 'ioredis';
import { decodeAssignmentEntry, type StreamRoutes } from '../../core/assignment-codec.js';
import { eventList } from '../../core/ranges.js';
import type { Keys } from '../../core/redis.js';
import type { Problem } from './accounting.js';

export interface ProblemLogSnapshot { latest: Problem[]; byReason: [string, number][]; total: number }

export interface AccountingSnapshot {
  failed: number;
  lost: number;
  unassignedLost: number;
  failures: ProblemLogSnapshot;
  losses: ProblemLogSnapshot;
  missing: ProblemLogSnapshot;
  bad: ProblemLogSnapshot;
  skipped: ProblemLogSnapshot;
  refused: number;
  stopped: boolean;
  endReason?: string;
}

export interface ScanCheckpoint {
  /** the last report applied to what this checkpoint holds */
  cursor: string;
  startedAt: number;
  accounting: AccountingSnapshot;
  /** reducer instance → [event, worker] whose result it was sent and has not reduced */
  awaitingReduce: [string, [number, string][]][];
  deadReducers: string[];
  suspects: [number, number][];
  forwarded: [string, { events: number; bytes: number }][];
}

/** the routing state of a scan as its assignment stream tells it */
export interface FoldedAssignments {
  /** events assigned so far */
  frontier: number;
  /** routes of the unfinished events, by worker name */
  routes: Map<number, StreamRoutes>;
  /** each worker name's unfinished events, and the instance they went to */
  outstanding: Map<string, number[]>;
  instances: Map<string, string>;
  /** per stream, its entries before the frontier */
  slots: Record<string, number>;
  /** the report cursor of the newest entry */
  cursor: string;
  /** stream entries with the highest event they mention, for trimming */
  entries: { id: string; maxEvent: number }[];
}

const PAGE = 1000;

function splitIdentity(identity: string): [string, string] {
  const slash = identity.lastIndexOf('/');
  return [identity.slice(0, slash), identity.slice(slash + 1)];
}

export async function foldAssignments(redis: Redis, keys: Keys, scan: string): Promise<FoldedAssignments> {
  const key = keys.assignments(scan);
  const routes = new Map<number, StreamRoutes>();
  const completed = new Set<number>();
  const instances = new Map<string, string>();
  const entries: { id: string; maxEvent: number }[] = [];
  let frontier = 0;
  let cursor = '0';
  let slots: Record<string, number> = {};
  const byName = (streams: StreamRoutes): StreamRoutes => Object.fromEntries(Object.entries(streams).map(([stream, ids]) => [stream, ids.map((id) => {
    const [name, instance] = splitIdentity(id);
    instances.set(name, instance);
    return name;
  })]));
  for (let start = '-'; ;) {
    const page = await redis.xrange(key, start, '+', 'COUNT', PAGE);
    for (const [id, fields] of page) {
      const entry = decodeAssignmentEntry(fields[1]);
      let maxEvent = -1;
      if (entry.routes.length) slots = { ...entry.slots };
      for (const { event, streams } of entry.routes) {
        routes.set(event, byName(streams));
        for (const stream in streams) slots[stream] = (slots[stream] ?? 0) + 1;
        frontier = Math.max(frontier, event + 1);
        maxEvent = Math.max(maxEvent, event);
      }
      for (const { event, streams } of entry.reassigned) {
        routes.set(event, byName(streams));
        maxEvent = Math.max(maxEvent, event);
      }
      for (const event of eventList(entry.completed)) {
        completed.add(event);
        maxEvent = Math.max(maxEvent, event);
      }
      if (entry.cursor) cursor = entry.cursor;
      if (entry.frontier) {
        frontier = entry.frontier.event;
        slots = { ...entry.frontier.slots };
      }
      entries.push({ id, maxEvent });
    }
    if (page.length < PAGE) break;
    start = `(${page.at(-1)![0]}`;
  }
  const outstanding = new Map<string, number[]>();
  for (const event of completed) routes.delete(event);
  for (const [event, streams] of routes) {
    for (const name of new Set(Object.values(streams).flat())) {
      let list = outstanding.get(name);
      if (!list) outstanding.set(name, list = []);
      list.push(event);
    }
  }
  return { frontier, routes, outstanding, instances, slots, cursor, entries };
}

/** true when Redis stream id `a` comes after `b` */
export function streamIdAfter(a: string, b: string): boolean {
  const [am, as = '0'] = a.split('-');
  const [bm, bs = '0'] = b.split('-');
  return Number(am) !== Number(bm) ? Number(am) > Number(bm) : Number(as) > Number(bs);
}

/**
 * The entries of a scan's assignment stream (controller → ingesters), in a compact form: the
 * distinct per-event routings ("patterns") are listed once and each event names its pattern with
 * one character, so a million events cost about a megabyte instead of fifty. An entry may also
 * carry reassignments (events of a worker that died, now routed to another) and the events that
 * completed since the previous entry (the ingesters free the frames they kept for them).
 */
import type { EventRanges } from './ranges.js';

/** where each stream's frame of one event goes: the identities (`name/instance`) of its workers; [] = discard; absent = no frame */
export type StreamRoutes = Record<string, readonly string[]>;

export interface EventRoute { event: number; streams: StreamRoutes }

export interface AssignmentEntry {
  /** routes of consecutive events, in order */
  routes: EventRoute[];
  /** for each stream of the map: how many of its entries came before `routes[0]` (its slot there) */
  slots: Record<string, number>;
  reassigned: EventRoute[];
  completed: EventRanges;
  /** the last report the controller had applied when it wrote this entry (a restarted controller reads on from there) */
  cursor?: string;
  /** events assigned once this entry is read, and each stream's entries before that event (for a restarted controller) */
  frontier?: { event: number; slots: Record<string, number> };
}

interface WireEntry {
  /** first event of `e` */
  f?: number;
  /** one pattern index per event: base64url characters while there are at most 64 patterns */
  e?: string | number[];
  /** patterns: per stream (index into `s`), the worker indices (into `w`), or null for no frame */
  p?: (number[] | null)[][];
  s?: string[];
  w?: string[];
  /** slots per stream of `s` at `f` */
  k?: number[];
  /** reassigned events and their patterns */
  r?: [number, number][];
  /** completed events */
  d?: EventRanges;
  /** report cursor */
  c?: string;
  /** frontier after this entry, and the slots per stream of `s` there */
  n?: number;
  nk?: number[];
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const CODE = new Map([...ALPHABET].map((c, i) => [c, i]));

/**
 * A number per distinct worker list: routes of consecutive events share their lists (the engine
 * and the controller hand out the same frozen arrays), so an event's pattern is found from these
 * numbers without looking into the lists (it was a tenth of the controller's time).
 */
const listIds = new WeakMap<readonly string[], number>();
let nextListId = 0;
function listId(list: readonly string[]): number {
  let id = listIds.get(list);
  if (id === undefined) listIds.set(list, id = nextListId++);
  return id;
}

/**
 * `identities` turns a worker list of the routes into the one written (names into `name/instance`);
 * it is asked once per distinct list, not per event
 */
export function encodeAssignmentEntry(entry: AssignmentEntry, identities: (list: readonly string[]) => readonly string[] = (list) => list): string {
  const streams = new Map<string, number>();
  const workers = new Map<string, number>();
  const patterns = new Map<string, number>();
  const patternList: (number[] | null)[][] = [];
  const index = <K>(map: Map<K, number>, key: K): number => {
    let i = map.get(key);
    if (i === undefined) map.set(key, i = map.size);
    return i;
  };
  for (const name of Object.keys(entry.slots)) index(streams, name);
  for (const name of Object.keys(entry.frontier?.slots ?? {})) index(streams, name);
  // events routed alike mostly share their record (the engine hands out a few): its pattern is found once
  const recordPatterns = new Map<StreamRoutes, number>();
  const patternOf = (route: StreamRoutes): number => {
    let p = recordPatterns.get(route);
    if (p !== undefined) return p;
    let key = '';
    for (const name in route) key += `${index(streams, name)}:${listId(route[name])};`;
    p = patterns.get(key);
    if (p === undefined) {
      const row: (number[] | null)[] = [];
      for (const name in route) row[index(streams, name)] = identities(route[name]).map((id) => index(workers, id));
      for (let i = 0; i < row.length; i++) row[i] ??= null;
      patterns.set(key, p = patternList.length);
      patternList.push(row);
    }
    recordPatterns.set(route, p);
    return p;
  };
  const wire: WireEntry = {};
  if (entry.routes.length) {
    const codes = entry.routes.map((r) => patternOf(r.streams));
    wire.f = entry.routes[0].event;
    wire.e = patternList.length <= ALPHABET.length ? codes.map((c) => ALPHABET[c]).join('') : codes;
  }
  if (entry.reassigned.length) wire.r = entry.reassigned.map((r) => [r.event, patternOf(r.streams)]);
  if (patternList.length) {
    wire.p = patternList;
    wire.w = [...workers.keys()];
  }
  if (streams.size) {
    wire.s = [...streams.keys()];
    wire.k = wire.s.map((name) => entry.slots[name] ?? 0);
  }
  if (entry.completed.length) wire.d = entry.completed;
  if (entry.cursor) wire.c = entry.cursor;
  if (entry.frontier) {
    wire.s = [...streams.keys()];
    wire.n = entry.frontier.event;
    wire.nk = wire.s.map((name) => entry.frontier!.slots[name] ?? 0);
  }
  return JSON.stringify(wire);
}

function fail(what: string): never {
  throw new Error(`malformed assignment entry: ${what}`);
}

export function decodeAssignmentEntry(json: string): AssignmentEntry {
  const wire = JSON.parse(json) as WireEntry;
  if (wire === null || typeof wire !== 'object') fail('not an object');
  const streams = wire.s ?? [];
  const workers = wire.w ?? [];
  // patterns become route objects once; events share them (read-only)
  const routes = (wire.p ?? []).map((row) => {
    const out: Record<string, readonly string[]> = {};
    row.forEach((ids, s) => {
      if (ids === null) return;
      if (streams[s] === undefined) fail(`stream index ${s}`);
      out[streams[s]] = Object.freeze(ids.map((w) => workers[w] ?? fail(`worker index ${w}`)));
    });
    return out;
  });
  const pattern = (i: number | undefined) => (i !== undefined && routes[i]) || fail(`pattern ${i}`);
  const slots: Record<string, number> = {};
  streams.forEach((name, i) => { slots[name] = wire.k?.[i] ?? 0; });
  const codes = typeof wire.e === 'string' ? [...wire.e].map((c) => CODE.get(c)) : (wire.e ?? []);
  const first = wire.f ?? 0;
  return {
    routes: codes.map((code, i) => ({ event: first + i, streams: pattern(code) })),
    slots,
    reassigned: (wire.r ?? []).map(([event, code]) => ({ event, streams: pattern(code) })),
    completed: wire.d ?? [],
    ...(wire.c ? { cursor: wire.c } : {}),
    ...(wire.n !== undefined ? { frontier: { event: wire.n, slots: Object.fromEntries(streams.map((name, i) => [name, wire.nk?.[i] ?? 0])) } } : {}),
  };
}

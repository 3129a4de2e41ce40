/**
 * Every default of the pipeline in one place (ports, addresses, credit, timings), so the CLI, the
 * config schema and the components agree. A module of its own, without imports, so that a
 * component's process need not load the config schema to know them.
 */

/** every listener binds here unless configured otherwise (design.md §7a) */
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_CONTROLLER_PORT = 5000;
export const DEFAULT_REDUCER_PORT = 5001;
export const DEFAULT_DEBUG_WORKER_PORT = 5002;
/** zmq data-plane endpoints: a free port on loopback */
export const DEFAULT_ZMQ_BIND = `tcp://${DEFAULT_HOST}:0`;

/** unfinished events one worker may hold, and the bytes they may add up to (design.md §4) */
export const DEFAULT_CREDIT = 1024;
export const DEFAULT_CREDIT_BYTES = 256 * 2 ** 20;

/** HTTP bodies: JSON requests (maps, scan descriptions) and parameter values (binary files) */
export const MAX_JSON_BODY = 16 * 2 ** 20;
export const MAX_PARAMETER_BYTES = 64 * 2 ** 20;
/** nesting of a JSON body; trigger maps need 7 levels */
export const MAX_JSON_DEPTH = 100;

/**
 * Caps of every trigger-map announcement (issue 10 item 8): beyond them a request is a mistake or
 * an attack, refused with a 4xx naming the limit. Compact maps (uniform parts, repeated parts) cost
 * the controller O(1) per event, so the event caps are high; posted entries are held explicitly.
 */
export const MAP_LIMITS = {
  /** body of POST /api/v1/sequence and /api/v1/mapping: room for 1M explicit entries */
  bodyBytes: 64 * 2 ** 20,
  /**
   * nb_points of the Sardana hook: the map is O(1) in the points, but the engine keeps each
   * constraint's worker for the scan (8 bytes a point)
   */
  pointsPerScan: 10_000_000,
  /**
   * events of a whole map, repeats and start/end events included: the map costs nothing per event,
   * but a scan's accounting keeps a byte per event once one fails
   */
  eventsPerMap: 100_000_000,
  /** part instances the sequence plays, repeats included */
  sequenceLength: 10_000_000,
  /** names and `{part, repeat}` items of a posted sequence */
  sequenceItems: 1_000_000,
  parts: 10_000,
  streams: 1_000,
  /** entries of all streams of all posted parts of one map (each is held by the controller) */
  entries: 4_000_000,
  virtualWorkersPerEntry: 1_000,
} as const;

/** a parameter value's text that is parsed as int, float or bool; longer values are refused */
export const MAX_PARAMETER_NUMBER_TEXT = 1_000;

/** bytes one dump file may reach, unless configured (the dumper stops there and says so) */
export const DEFAULT_MAX_DUMP_BYTES = 4 * 2 ** 30;

/** the bearer token that guards every state-changing request, when set */
export function tokenFromEnvironment(): string | undefined {
  return process.env.DRANSPOSE_TOKEN || undefined;
}

/** origins of web pages allowed to call the HTTP APIs (comma-separated `DRANSPOSE_CORS_ORIGINS`) */
export function corsOriginsFromEnvironment(): string[] {
  return (process.env.DRANSPOSE_CORS_ORIGINS ?? '').split(',').map((o) => o.trim()).filter(Boolean);
}

/**
 * The shared memory that carries a Python worker's event frames to its payload host
 * (src/python/shared-frames.ts): slots of one event each. 16 leave room for the events in flight
 * and for events a payload keeps; an event larger than a slot goes over the host's zmq lane. Pages
 * are allocated as frames first touch them.
 */
export const PYTHON_SHARED_SLOTS = 16;
export const PYTHON_SHARED_SLOT_BYTES = 4 * 2 ** 20;

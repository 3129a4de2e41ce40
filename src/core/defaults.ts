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

/** the bearer token that guards every state-changing request, when set */
export function tokenFromEnvironment(): string | undefined {
  return process.env.DRANSPOSE_TOKEN || undefined;
}

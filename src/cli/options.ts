/** Options every component command shares: which pipeline, which Redis. */
import type { Command } from 'commander';
import { redisUrl } from '../core/redis.js';
import { DEFAULT_ZMQ_BIND } from '../core/defaults.js';

export interface CommonOptions {
  pipeline: string;
  redis: string;
  keyPrefix?: string;
}

export function addCommonOptions(command: Command): Command {
  return command
    .option('--pipeline <name>', 'pipeline name (Redis keys under dranspose:<name>:)', process.env.DRANSPOSE_PIPELINE ?? 'default')
    .option('--redis <url>', 'Redis URL', redisUrl())
    .option('--key-prefix <prefix>', 'Redis key prefix instead of dranspose:<pipeline>:', process.env.DRANSPOSE_KEY_PREFIX);
}

/** the zmq endpoint a part binds for others, and the host it tells them to connect to */
export interface EndpointOptions {
  bind: string;
  advertise?: string;
}

/** `--bind` and `--advertise` of a part that others connect to; `peers` says who, e.g. 'worker results' */
export function addEndpointOptions(command: Command, peers: string): Command {
  return command
    .option('--bind <endpoint>', `zmq endpoint for ${peers} (port 0 = free port; tcp://0.0.0.0:PORT for other hosts)`, DEFAULT_ZMQ_BIND)
    .option('--advertise <host>', 'host the workers connect to, published in Redis (with a wildcard --bind)');
}

export function componentOptions(options: CommonOptions) {
  return { pipeline: options.pipeline, redisUrl: options.redis, keyPrefix: options.keyPrefix };
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function parseInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new Error(`not an integer: ${value}`);
  return n;
}

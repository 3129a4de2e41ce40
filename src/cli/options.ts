/** Options every component command shares: which pipeline, which Redis. */
import type { Command } from 'commander';
import { redisUrl } from '../core/redis.js';

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

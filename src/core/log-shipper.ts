/** Ships log records to the pipeline's Redis log stream without blocking the caller. */
import Transport from 'winston-transport';
import type { Redis } from 'ioredis';
import { rootLogger } from './logging.js';

const LEVEL_NAMES: Record<string, string> = { error: 'ERROR', warn: 'WARNING', info: 'INFO', debug: 'DEBUG', verbose: 'DEBUG', silly: 'DEBUG' };
const MAX_LOG_ENTRIES = 1000;

class RedisLogTransport extends Transport {
  constructor(private readonly redis: Redis, private readonly stream: string) {
    super();
  }

  override log(info: { level: string; message: unknown; component?: string }, callback: () => void): void {
    // auto-pipelined and not awaited: a log call never waits for Redis
    this.redis.xadd(this.stream, 'MAXLEN', '~', String(MAX_LOG_ENTRIES), '*',
      'msg', String(info.message), 'name', info.component ?? 'dranspose', 'lineno', '0',
      'created', String(Date.now() / 1000), 'levelname', LEVEL_NAMES[info.level] ?? info.level.toUpperCase(),
    ).catch(() => undefined);
    callback();
  }
}

let shipping: RedisLogTransport | undefined;

/** Attaches one Redis transport to the process's root logger (idempotent). */
export function shipLogsTo(redis: Redis, stream: string): void {
  if (shipping) return;
  shipping = new RedisLogTransport(redis, stream);
  rootLogger.add(shipping);
}

/** Process-wide winston logging; the Redis log shipper is attached by the runtime when it connects. */
import winston from 'winston';

const level = (process.env.LOG_LEVEL ?? 'info').toLowerCase();

export const rootLogger = winston.createLogger({
  level,
  format: winston.format.combine(
    winston.format.timestamp(),
    winston.format.printf(({ timestamp, level: lvl, message, component }) =>
      `${timestamp} ${lvl.toUpperCase()} [${component ?? 'dranspose'}] ${message}`),
  ),
  transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] })],
});

/** A logger whose records carry the component name (shown in /api/v1/logs as `name`). */
export function createLogger(component: string): winston.Logger {
  return rootLogger.child({ component });
}

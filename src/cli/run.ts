/** `dranspose run CONFIG`: a whole pipeline on this host — controller here, the other parts as children. */
import { resolve } from 'node:path';
import { parameterBytes } from '../core/parameters.js';
import { DEFAULT_REDIS_URL } from '../core/redis.js';
import { tokenFromEnvironment } from '../core/defaults.js';
import type { PipelineConfig } from '../core/config.js';
import { startControllerServer, type ControllerServer } from '../controller/server.js';
import { Supervisor } from '../controller/supervisor.js';
import { PipelineTango } from '../controller/tango/integration.js';
import { ensureRedis, type RedisHandle } from './private-redis.js';
import { createLogger } from '../core/logging.js';

const logger = createLogger('run');
/** how long parts that said they started may take to show in the registry */
const PARTS_REGISTER_MS = 30_000;

export interface RunningPipeline {
  server: ControllerServer;
  supervisor: Supervisor;
  redis: RedisHandle;
  stop(): Promise<void>;
  /** resolves when the controller must not go on (another took its lock) */
  ended: Promise<string>;
}

export async function runPipeline(config: PipelineConfig): Promise<RunningPipeline> {
  const redis = await ensureRedis(process.env.DRANSPOSE_REDIS_URL ?? config.redis ?? DEFAULT_REDIS_URL, logger);
  const tango = config.tango ? new PipelineTango({ ...config, tango: config.tango }) : undefined;
  const security = { token: config.auth?.token ?? tokenFromEnvironment(), corsOrigins: config.cors_origins };
  let server: ControllerServer;
  try {
    server = await startControllerServer({
      pipeline: config.name, redisUrl: redis.url, keyPrefix: config.key_prefix,
      port: config.controller.port, host: config.controller.host, credit: config.controller.credit, creditBytes: config.controller.credit_bytes,
      dumpDirectory: config.dumps.directory && resolve(config.baseDir, config.dumps.directory),
      routers: tango?.routers, security,
    });
  } catch (error) {
    tango?.close();
    redis.stop();
    throw error;
  }
  const { controller } = server;
  const supervisor = new Supervisor(config, { redisUrl: redis.url, pipeline: config.name, keyPrefix: config.key_prefix, ...security }, controller.logger,
    { exited: (field) => { controller.partExited(field).catch(() => undefined); } });
  controller.workerScaler = supervisor;
  const stop = async () => {
    await supervisor.stop();
    await server.close();
    tango?.close();
    redis.stop();
  };
  try {
    for (const [name, value] of Object.entries(config.parameters)) {
      await controller.setParameter(name, parameterBytes(typeof value === 'number' && !Number.isInteger(value) ? 'float' : 'str', value));
    }
    await Promise.all([
      supervisor.start(),
      ...(tango && config.tango?.bridge ? [supervisor.supervise(tango.bridge(config.controller.host, server.port))] : []),
    ]);
    // started is not yet seen: wait until the controller sees every part beating
    await controller.waitForParts(supervisor.fields(), PARTS_REGISTER_MS);
  } catch (error) {
    await stop();
    throw error;
  }
  controller.logger.info(`pipeline ${config.name}: every part is running`);
  return { server, supervisor, redis, stop, ended: controller.ended };
}

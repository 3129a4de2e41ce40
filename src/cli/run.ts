/** `dranspose run CONFIG`: a whole pipeline on this host — controller here, the other parts as children. */
import { resolve } from 'node:path';
import { parameterBytes } from '../core/parameters.js';
import { DEFAULT_REDIS_URL } from '../core/redis.js';
import type { PipelineConfig } from '../core/config.js';
import { startControllerServer, type ControllerServer } from '../controller/server.js';
import { Supervisor } from '../controller/supervisor.js';
import { PipelineTango } from '../controller/tango/integration.js';
import { ensureRedis, type RedisHandle } from './private-redis.js';

export interface RunningPipeline {
  server: ControllerServer;
  supervisor: Supervisor;
  redis: RedisHandle;
  stop(): Promise<void>;
}

export async function runPipeline(config: PipelineConfig): Promise<RunningPipeline> {
  const redis = await ensureRedis(process.env.DRANSPOSE_REDIS_URL ?? config.redis ?? DEFAULT_REDIS_URL);
  const tango = config.tango ? new PipelineTango({ ...config, tango: config.tango }) : undefined;
  let server: ControllerServer;
  try {
    server = await startControllerServer({
      pipeline: config.name, redisUrl: redis.url, keyPrefix: config.key_prefix,
      port: config.controller.port, host: config.controller.host, credit: config.controller.credit, creditBytes: config.controller.credit_bytes,
      dumpDirectory: config.dumps.directory && resolve(config.baseDir, config.dumps.directory),
      routers: tango?.routers,
    });
  } catch (error) {
    tango?.close();
    redis.stop();
    throw error;
  }
  const supervisor = new Supervisor(config, { redisUrl: redis.url, pipeline: config.name, keyPrefix: config.key_prefix }, server.controller.logger);
  supervisor.start();
  server.controller.workerScaler = supervisor;
  if (tango && config.tango?.bridge) supervisor.supervise(tango.bridge(config.controller.host, server.port));
  for (const [name, value] of Object.entries(config.parameters)) {
    await server.controller.setParameter(name, parameterBytes(typeof value === 'number' && !Number.isInteger(value) ? 'float' : 'str', value));
  }
  return {
    server, supervisor, redis,
    async stop() {
      await supervisor.stop();
      await server.close();
      tango?.close();
      redis.stop();
    },
  };
}

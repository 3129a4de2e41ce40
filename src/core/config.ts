/** Pipeline configuration (YAML in `config/`), validated at start with a message naming the bad key. */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { describeIssue } from './validation.js';
import {
  DEFAULT_CONTROLLER_PORT, DEFAULT_CREDIT, DEFAULT_CREDIT_BYTES, DEFAULT_DEBUG_WORKER_PORT, DEFAULT_HOST, DEFAULT_MAX_DUMP_BYTES, DEFAULT_REDUCER_PORT,
} from './defaults.js';

const name = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only');
const zmqEndpoint = z.string().regex(/^tcp:\/\/[^:]+:\d+$/, 'a tcp://host:port endpoint');
const port = z.number().int().min(0).max(65535);

const streamSchema = z.strictObject({
  name,
  protocol: z.string(),
  upstream: z.string(),
});

const ingesterSchema = z.strictObject({
  name,
  streams: z.array(streamSchema).min(1),
  bind: zmqEndpoint.optional(),
  dump: z.string().optional(),
});

const workerGroupSchema = z.strictObject({
  class: z.string().optional(),
  count: z.number().int().min(0).default(1),
  tags: z.array(z.string()).default(['generic']),
  name: name.optional(),
});

const debugWorkerSchema = z.strictObject({
  name,
  tags: z.array(z.string()).default(['debug']),
  port: port.default(DEFAULT_DEBUG_WORKER_PORT),
  host: z.string().default(DEFAULT_HOST),
  keep: z.number().int().positive().default(50),
});

const reducerSchema = z.strictObject({
  class: z.string().optional(),
  port: port.default(DEFAULT_REDUCER_PORT),
  /** the result API's address: loopback unless set */
  host: z.string().default(DEFAULT_HOST),
  bind: zmqEndpoint.optional(),
});

export const pipelineConfigSchema = z.strictObject({
  name,
  redis: z.string().url().optional(),
  key_prefix: z.string().optional(),
  controller: z.strictObject({
    port: port.default(DEFAULT_CONTROLLER_PORT),
    /** the HTTP API's address: loopback unless set (0.0.0.0 for every interface) */
    host: z.string().default(DEFAULT_HOST),
    credit: z.number().int().positive().default(DEFAULT_CREDIT),
    credit_bytes: z.number().int().positive().default(DEFAULT_CREDIT_BYTES),
  }).prefault({}),
  ingesters: z.array(ingesterSchema).default([]),
  workers: z.array(workerGroupSchema).default([]),
  debug_workers: z.array(debugWorkerSchema).default([]),
  reducer: reducerSchema.prefault({}),
  parameters: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  /** the interpreter of Python payload classes (default /usr/bin/python3, or DRANSPOSE_PYTHON) */
  python: z.string().optional(),
  /** where the dump_prefix parameter may make ingesters write (relative to the config file), and how much */
  dumps: z.strictObject({
    directory: z.string().min(1).optional(),
    max_bytes: z.number().int().positive().default(DEFAULT_MAX_DUMP_BYTES),
  }).prefault({}),
  /** a bearer token every state-changing request must carry (default: DRANSPOSE_TOKEN, or none) */
  auth: z.strictObject({ token: z.string().min(8, 'a token of at least 8 characters') }).optional(),
  /** origins of web pages that may call the HTTP APIs (CORS); none unless listed */
  cors_origins: z.array(z.url()).default([]),
  tango: z.strictObject({
    device: z.string().regex(/^[^/\s]+\/[^/\s]+\/[^/\s]+$/, 'domain/family/member'),
    port: port.default(45450),
    host: z.string().default('127.0.0.1'),
    /** false when the device is registered in a Tango database and its server runs elsewhere */
    bridge: z.boolean().default(true),
    /** attribute name → JSONPath into the reducer's publish (or { path, format, type, unit, label, description }) */
    results: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a Tango attribute name: letters, digits, _'), z.union([
      z.string(),
      z.strictObject({
        path: z.string(),
        format: z.enum(['scalar', 'spectrum', 'image']).optional(),
        type: z.enum(['float', 'int', 'bool', 'str']).optional(),
        unit: z.string().optional(),
        label: z.string().optional(),
        description: z.string().optional(),
      }),
    ])).default({}),
  }).optional(),
});

export type PipelineConfig = z.infer<typeof pipelineConfigSchema> & { baseDir: string };

export class ConfigError extends Error {}

export function parsePipelineConfig(raw: unknown, baseDir: string, source = 'config'): PipelineConfig {
  const parsed = pipelineConfigSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`${source}: ${describeIssue(parsed.error.issues[0], '(top level)')}`);
  const config = parsed.data;
  const streams = config.ingesters.flatMap((i) => i.streams.map((s) => s.name));
  const duplicate = streams.find((s, i) => streams.indexOf(s) !== i);
  if (duplicate) throw new ConfigError(`${source}: ingesters: stream ${duplicate} is served twice`);
  return { ...config, baseDir };
}

export function loadPipelineConfig(path: string): PipelineConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read ${path}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`${path}: not YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  return parsePipelineConfig(raw, dirname(resolve(path)), path);
}

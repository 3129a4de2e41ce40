/**
 * The PyTango bridge registered in a real Tango database: DataBaseds (Debian's tango-db, on MariaDB)
 * on a free loopback port, the server DransposePipeline/<instance> registered with tango_admin, the
 * controller URL taken from the device property controller_url, and DeviceProxy clients that find the
 * device by its plain name through TANGO_HOST.
 */
import { expect } from 'chai';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { TangoRestClient } from '../src/tango/client.js';
import { REDIS_URL, ROOT, TestPipeline, freePort, sleep, startPipeline, uniformSequence, waitFor } from './helpers/pipeline.js';
import { StinsSource } from './helpers/stins-source.js';
import { PYTHON, run, stopProcess } from './helpers/process.js';
import { BRIDGE, EventLog, changes, python } from './helpers/tango.js';

const DATABASEDS = '/usr/lib/tango/DataBaseds';
const TANGO_ADMIN = '/usr/bin/tango_admin';
/** the Debian packages that provide them */
const PROVIDERS: [string, string][] = [[DATABASEDS, 'tango-db'], [TANGO_ADMIN, 'libtango-tools']];
/** lets dbconfig-common create the `tango` database, user and schema in MariaDB without asking */
const PRESEED = 'tango-db tango-db/dbconfig-install boolean true\n';
const MARIADB = { host: '127.0.0.1', port: 3306 };
const PAYLOAD = `${ROOT}/test/tango-payload.ts`;
const ECHO = `${ROOT}/test/payloads/echo.ts`;
const PARAMETERS = ['calibration', 'enabled', 'fail_on', 'gain', 'note', 'roi_size'];

const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);

function tail(error: unknown): string {
  const e = error as { stderr?: string; message?: string };
  return (e.stderr || e.message || String(error)).trim().split('\n').slice(-3).join(' | ');
}

async function listening({ host, port }: { host: string; port: number }): Promise<boolean> {
  return await new Promise((done) => {
    const socket = net.connect(port, host, () => { socket.end(); done(true); });
    socket.on('error', () => done(false));
  });
}

/** Installs tango-db and libtango-tools from Debian when their programs are missing; returns why it could not. */
async function installTangoDatabase(): Promise<string | undefined> {
  const packages = PROVIDERS.filter(([file]) => !existsSync(file)).map(([, name]) => name);
  if (!packages.length) return undefined;
  if (process.getuid?.() !== 0) return `${packages.join(' and ')} not installed, and only root may apt-get install them`;
  console.log(`      installing ${packages.join(' ')} with apt-get (debconf preseed: ${PRESEED.trim()})`);
  const startedAt = Date.now();
  const aptGet = async (...args: string[]) => (await run('apt-get', ['-o', 'DPkg::Lock::Timeout=120', ...args], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 240_000, maxBuffer: 16 << 20,
  })).stdout;
  let output: string;
  try {
    execFileSync('debconf-set-selections', { input: PRESEED });
    const install = () => aptGet('install', '-y', '--no-install-recommends', ...packages);
    // missing or stale package lists: refresh them once
    output = await install().catch(async () => { await aptGet('update'); return await install(); });
  } catch (error) {
    return `installing ${packages.join(' ')} failed: ${tail(error)}`;
  }
  const installed = /The following NEW packages will be installed:\n((?: .*\n)+)/.exec(output)?.[1].trim().split(/\s+/) ?? [];
  console.log(`      installed ${installed.join(', ') || 'nothing new'} in ${seconds(startedAt)} s`);
  const still = PROVIDERS.filter(([file]) => !existsSync(file)).map(([file]) => file);
  return still.length ? `apt-get install ${packages.join(' ')} did not provide ${still.join(', ')}` : undefined;
}

/** uid and gid of the `tango` account that tango-db's credentials (~tango/.my.cnf) belong to */
function tangoAccount(): { uid: number; gid: number; home: string } {
  const [, , uid, gid, , home] = execFileSync('getent', ['passwd', 'tango'], { encoding: 'utf8' }).trim().split(':');
  return { uid: Number(uid), gid: Number(gid), home };
}

/** Starts DataBaseds as the `tango` user on a loopback port; resolves once it accepts requests. */
async function startDatabaseServer(port: number, account: { uid: number; gid: number; home: string }): Promise<ChildProcess> {
  const child = spawn(DATABASEDS, ['2', '-ORBendPoint', `giop:tcp:127.0.0.1:${port}`], {
    ...(process.getuid?.() === 0 ? { uid: account.uid, gid: account.gid } : {}),
    env: { HOME: account.home, PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
  await waitFor('DataBaseds to accept requests', async () => {
    if (child.exitCode !== null) throw new Error(`DataBaseds exited with ${child.exitCode}: ${output.join('')}`);
    return output.join('').includes('Ready to accept request');
  }, 20_000, 20).catch((error) => { child.kill('SIGTERM'); throw error; });
  return child;
}

describe('Tango device registered in a Tango database (DataBaseds + tango_admin + DeviceProxy by name)', function () {
  this.timeout(60_000);
  const id = randomUUID().slice(0, 8);
  const instance = `t${id}`;
  const server = `DransposePipeline/${instance}`;
  const device = `test/dranspose/db${id}`;
  let tangoEnv: NodeJS.ProcessEnv;
  let databaseServer: ChildProcess | undefined;
  let bridge: ChildProcess | undefined;
  const bridgeLog: string[] = [];
  let registered = false;
  let pipeline: TestPipeline | undefined;
  let source: StinsSource | undefined;
  let rest: TangoRestClient;

  const tangoAdmin = async (...args: string[]) => await run(TANGO_ADMIN, args, { env: tangoEnv, timeout: 20_000 });
  const tango = async <T>(script: string, ...args: string[]) => await python<T>(script, [device, ...args], tangoEnv);

  before(async function () {
    this.timeout(300_000);
    const skip = (reason: string) => { console.log(`      skipped: ${reason}`); this.skip(); };
    const pytango = await run(PYTHON, ['-c', 'import tango'], { timeout: 30_000 }).then(() => '', tail);
    if (pytango) skip(`PyTango is not importable by ${PYTHON} (apt-get install python3-tango): ${pytango}`);
    if (!await listening(MARIADB)) skip(`no MariaDB at ${MARIADB.host}:${MARIADB.port}, which tango-db needs`);
    const notInstalled = await installTangoDatabase();
    if (notInstalled) skip(notInstalled);

    const account = tangoAccount();
    if (process.getuid?.() !== 0 && process.getuid?.() !== account.uid) {
      skip('DataBaseds has to run as the tango user (its ~/.my.cnf holds the database password), and this test runs as neither root nor tango');
    }
    const databasePort = await freePort();
    tangoEnv = { ...process.env, TANGO_HOST: `127.0.0.1:${databasePort}` };
    // the URL must come from the device property, not from the environment
    delete tangoEnv.DRANSPOSE_CONTROLLER_URL;
    let startedAt = Date.now();
    databaseServer = await startDatabaseServer(databasePort, account);
    console.log(`      DataBaseds ready on 127.0.0.1:${databasePort} in ${seconds(startedAt)} s`);

    source = await StinsSource.bind();
    pipeline = await startPipeline({
      ingesters: [{ name: 'eiger-ingester', streams: [{ name: 'eiger', protocol: 'stins', upstream: source.endpoint }] }],
      workers: [{ class: `${PAYLOAD}:ParameterWorker`, count: 1 }],
      reducer: { class: `${ECHO}:EchoReducer` },
      tango: { device, port: await freePort(), host: '127.0.0.1', bridge: false },
    }, { ingesters: 1, workers: 1 });
    rest = new TangoRestClient(pipeline.controller, 'localhost', 10000, device);

    startedAt = Date.now();
    await tangoAdmin('--add-server', server, 'DransposePipeline', device);
    registered = true;
    await tangoAdmin('--add-property', device, 'controller_url', pipeline.controller);
    console.log(`      registered ${server} (${device}) with tango_admin in ${seconds(startedAt)} s`);

    startedAt = Date.now();
    // CORBA and the event sockets on loopback only, on ports the ORB picks
    bridge = spawn(PYTHON, [BRIDGE, instance, '-ORBendPoint', 'giop:tcp:127.0.0.1:'], { env: tangoEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    bridge.stdout!.on('data', (d: Buffer) => bridgeLog.push(d.toString()));
    bridge.stderr!.on('data', (d: Buffer) => bridgeLog.push(d.toString()));
    await waitFor('the registered bridge, ON with every parameter', async () => {
      if (bridge!.exitCode !== null) throw new Error(`the bridge exited with ${bridge!.exitCode}`);
      const { state, names } = await tango<{ state: string; names: string[] }>(
        'print(json.dumps({"state": str(dp.state()), "names": list(dp.get_attribute_list())}))');
      return state === 'ON' && PARAMETERS.every((p) => names.includes(p));
    }, 40_000, 300).catch((error) => { throw new Error(`${error.message}\n${bridgeLog.join('')}`); });
    console.log(`      bridge ON with its parameters ${seconds(startedAt)} s after it was started`);
  });

  after(async function () {
    this.timeout(30_000);
    await stopProcess(bridge);
    if (registered) await tangoAdmin('--delete-server', server, '--with-properties').catch((e) => console.log(`      could not unregister ${server}: ${tail(e)}`));
    await stopProcess(databaseServer);
    await pipeline?.stop();
    source?.close();
  });

  it('is found by its plain name; the database has its server, class and controller_url, the bridge serves the model', async () => {
    const seen = await tango<Record<string, unknown>>(`
db = tango.Database()
info = db.get_device_info(sys.argv[1])
print(json.dumps({
  "server": info.ds_full_name, "class": info.class_name, "exported": bool(info.exported), "pid": info.pid,
  "controller_url": list(db.get_device_property(sys.argv[1], ["controller_url"])["controller_url"]),
  "proxy_class": dp.info().dev_class, "admin": dp.adm_name(),
  "state": str(dp.state()), "status": dp.status(),
  "completedEvents": dp.read_attribute("completedEvents").value, "totalEvents": dp.read_attribute("totalEvents").value,
}))`);
    const model = await rest.state();
    expect(seen).to.deep.equal({
      server, class: 'DransposePipeline', exported: true, pid: bridge!.pid,
      controller_url: [pipeline!.controller],
      proxy_class: 'DransposePipeline', admin: `dserver/${server}`,
      state: 'ON', status: model.status,
      completedEvents: 0, totalEvents: 0,
    });
    expect((seen.status as string).split('\n')).to.include("eiger-ingester, streams: ['eiger']");
  });

  it('forwards a parameter written through the DeviceProxy to the controller', async () => {
    const written = await tango<Record<string, unknown>>(`
dp.write_attribute("note", "from the tango database")
dp.write_attribute("gain", 2.25)
print(json.dumps({"note": dp.read_attribute("note").value, "gain": dp.read_attribute("gain").value}))`);
    expect(written).to.deep.equal({ note: 'from the tango database', gain: 2.25 });
    const parameter = async (name: string) => await (await fetch(`${pipeline!.controller}/api/v1/parameter/${name}`)).text();
    expect([await parameter('note'), Number(await parameter('gain'))]).to.deep.equal(['from the tango database', 2.25]);
  });

  it('counts a scan to totalEvents, with change events on completedEvents that go on beyond 10 s', async () => {
    const log = await EventLog.start(device, ['State', 'completedEvents'], tangoEnv);
    const subscribedAt = Date.now();
    try {
      await log.until('the first events', () => log.of('State').length > 0 && log.of('completedEvents').length > 0);
      const uuid = await tango<string>('print(json.dumps(dp.command_inout("SetSequence", sys.argv[2])))', JSON.stringify(uniformSequence(['eiger'], 10)));
      expect(uuid).to.be.a('string').and.not.be.empty;
      await source!.play({ frames: 10, shape: [4, 4], rate: 50 });
      await pipeline!.waitForFinish();
      await waitFor('completedEvents to reach totalEvents through the DeviceProxy', async () => {
        const counts = await tango<number[]>('print(json.dumps([dp.read_attribute(n).value for n in ("completedEvents", "totalEvents")]))');
        return counts[0] === 12 && counts[1] === 12;
      }, 5000, 100);
      await log.until('completedEvents 12', () => log.of('completedEvents').at(-1)?.value === 12);

      // past the 10 s after which -nodb subscriptions fail (docs/tango.md): a second scan must still be seen
      await sleep(Math.max(0, subscribedAt + 13_000 - Date.now()));
      const before = log.events.length;
      // a second long enough (1 s) for the bridge's 0.25 s polls to see it run
      await pipeline!.setSequence(uniformSequence(['eiger'], 8));
      await source!.play({ frames: 8, shape: [4, 4], rate: 8 });
      await pipeline!.waitForFinish();
      await log.until('completedEvents 10 of the second scan', () => log.of('completedEvents').at(-1)?.value === 10);
      await log.until('State ON again', () => log.of('State').at(-1)?.value === 'ON');
      const last = log.events.at(-1)!;
      console.log(`      ${log.events.length} change events over ${((last.t * 1000 - subscribedAt) / 1000).toFixed(1)} s of subscription, `
        + `${log.events.length - before} of them after 13 s; errors: ${log.errors().length}`);
      expect(log.errors()).to.deep.equal([]);
      expect(changes(log.of('State'))).to.deep.equal(['ON', 'RUNNING', 'ON', 'RUNNING', 'ON']);
      const completed = changes(log.of('completedEvents')) as number[];
      expect(completed[0]).to.equal(0);
      expect(completed).to.include(12);
      expect(completed.at(-1)).to.equal(10);
      // the second scan counts again from its start (0 itself may fall between two polls of the bridge), only upwards
      const second = completed.slice(completed.lastIndexOf(12) + 1);
      expect(second.length, `second scan: ${second}`).to.be.at.least(3);
      expect(second[0]).to.be.below(10);
      expect([...second].sort((a, b) => a - b)).to.deep.equal(second);
    } finally {
      await log.stop();
    }
  });

  it('dranspose run with TANGO_HOST set registers its device there and serves it from the database (no -nodb)', async () => {
    const runDevice = `test/dranspose/run${id}`;
    const started = await startPipeline({
      workers: [{ class: `${PAYLOAD}:ParameterWorker`, count: 1 }], reducer: { class: `${ECHO}:EchoReducer` },
      tango: { device: runDevice, port: await freePort(), host: '127.0.0.1' },
    }, { ingesters: 0, workers: 1 }, REDIS_URL, tangoEnv);
    const runServer = `DransposePipeline/${started.name}`;
    try {
      const seen = await waitFor(`the device of dranspose run by its plain name\n${started.output.join('')}`, async () => {
        const found = await python<Record<string, unknown>>(`
db = tango.Database()
info = db.get_device_info(sys.argv[1])
print(json.dumps({"server": info.ds_full_name, "exported": bool(info.exported), "state": str(dp.state()),
  "controller_url": list(db.get_device_property(sys.argv[1], ["controller_url"])["controller_url"])}))`, [runDevice], tangoEnv).catch(() => undefined);
        return found?.state === 'ON' ? found : undefined;
      }, 40_000, 500);
      expect(seen).to.deep.equal({ server: runServer, exported: true, state: 'ON', controller_url: [started.controller] });
      const log = await EventLog.start(runDevice, ['workerCount'], tangoEnv);
      try {
        await log.until('a change event by the plain name', () => log.of('workerCount').at(-1)?.value === 1);
      } finally {
        await log.stop();
      }
    } finally {
      await started.stop();
      await tangoAdmin('--delete-server', runServer, '--with-properties').catch((e) => console.log(`      could not unregister ${runServer}: ${tail(e)}`));
    }
  });

  it('is gone from the database once its server is deleted with tango_admin; only the property history remembers it', async () => {
    await stopProcess(bridge);
    await tangoAdmin('--delete-server', server, '--with-properties');
    registered = false;
    // asked of the database device itself, as a proxy of the deleted device cannot be made
    const left = await python<Record<string, unknown>>(`
print(json.dumps({
  "devices": list(dp.command_inout("DbGetDeviceWideList", "*${id}*")),
  "servers": list(dp.command_inout("DbGetServerList", "*${id}*")),
  "properties": list(dp.command_inout("DbGetDevicePropertyList", ["${device}", "*"])),
  "attributeProperties": list(dp.command_inout("DbGetDeviceAttributeList", ["${device}", "*"])),
  "history": list(dp.command_inout("DbGetDevicePropertyHist", ["${device}", "controller_url"])),
  "proxy": attempt(lambda: tango.DeviceProxy("${device}").state()),
}))`, ['sys/database/2'], tangoEnv);
    expect(left).to.deep.include({ devices: [], servers: [], properties: [], attributeProperties: [] });
    // Tango keeps an audit trail of properties (Jive shows it): [name, date, count, ...values] per change,
    // the deletion last with no value
    const history = left.history as string[];
    expect([history.length, history[0], history[2], history[3], history[4], history[6]])
      .to.deep.equal([7, 'controller_url', '1', pipeline!.controller, 'controller_url', '0']);
    expect((left.proxy as { reason?: string }).reason).to.equal('DB_DeviceNotDefined');
  });
});

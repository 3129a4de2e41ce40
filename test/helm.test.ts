/**
 * The Helm chart (deploy/helm/dranspose): `helm lint --strict` and `helm template` with the real
 * helm, every rendered manifest valid against the Kubernetes schemas (kubernetes-models), the
 * values checked by values.schema.json, and the parts wired as `dranspose run` wires them: the same
 * commands and options (each one the CLI knows), Redis and the pipeline in the same variables, and
 * every advertised address a Service that leads to the port its part binds.
 */
import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import * as core from 'kubernetes-models/v1';
import * as apps from 'kubernetes-models/apps/v1';
import * as networking from 'kubernetes-models/networking.k8s.io/v1';
import { BIN, ROOT } from './helpers/build.js';
import { helmBinary } from './helpers/helm.js';
import { run } from './helpers/process.js';
import { parsePipelineConfig } from '../src/core/config.js';
import { childSpecs } from '../src/controller/supervisor.js';

const CHART = join(ROOT, 'deploy/helm/dranspose');
/** where the science image keeps the payload (the Dockerfile's WORKDIR) */
const PAYLOAD_DIR = '/payload';

const FULL = {
  science_image: 'registry.example.org/daq/fluorescence:main',
  pipeline: 'nanomax',
  token: 'a-long-secret',
  cors_origins: ['https://dashboard.beamline.example'],
  dumps: { directory: '/data/dumps', max_bytes: 1073741824, volume: { persistentVolumeClaim: { claimName: 'dumps' } } },
  ingesters: {
    contrast: { connect_url: 'tcp://172.16.125.30:5556', ingester_class: 'StreamingContrastIngester' },
    xspress3: { connect_url: 'tcp://172.16.126.70:9999', ingester_class: 'ZmqSubXspressIngester', affinity: { component: 'xspress3', namespace: 'daq-xspress3' } },
    'eiger-1': { stream: 'eiger_1', connect_url: 'tcp://eiger:9999', protocol: 'eiger-legacy', resources: { limits: { cpu: '2' } } },
    sardana: { connect_url: 'http://0.0.0.0:5010', protocol: 'sardana' },
    encoders: { streams: [{ name: 'pcap', connect_url: 'tcp://panda:9999', protocol: 'pcap' }, { name: 'alba', connect_url: 'tcp://alba:9999', ingester_class: 'ZmqSubAlbaemIngester' }] },
  },
  workers: 3,
  worker: { class: 'src/worker.ts:FluorescenceWorker', tags: ['generic', 'fast'] },
  reducer: { class: 'src/worker.ts:FluorescenceReducer' },
  debug_workers: [{ name: 'debug', keep: 20 }],
  ingress: { enabled: true, className: 'nginx', suffix: 'daq.example.org', tlsSecret: 'daq-tls' },
  resources: { requests: { cpu: '100m', memory: '128Mi' } },
};

/** the same pipeline as a `dranspose run` configuration */
const SAME_AS_CONFIG = {
  name: 'nanomax',
  ingesters: [
    { name: 'contrast', streams: [{ name: 'contrast', protocol: 'contrast', upstream: 'tcp://172.16.125.30:5556' }] },
    { name: 'xspress3', streams: [{ name: 'xspress3', protocol: 'xspress3', upstream: 'tcp://172.16.126.70:9999' }] },
    { name: 'eiger-1', streams: [{ name: 'eiger_1', protocol: 'eiger-legacy', upstream: 'tcp://eiger:9999' }] },
    { name: 'sardana', streams: [{ name: 'sardana', protocol: 'sardana', upstream: 'http://0.0.0.0:5010' }] },
    { name: 'encoders', streams: [{ name: 'pcap', protocol: 'pcap', upstream: 'tcp://panda:9999' }, { name: 'alba', protocol: 'albaem', upstream: 'tcp://alba:9999' }] },
  ],
  workers: [{ class: 'src/worker.ts:FluorescenceWorker', count: 3, tags: ['generic', 'fast'] }],
  debug_workers: [{ name: 'debug', keep: 20 }],
  reducer: { class: 'src/worker.ts:FluorescenceReducer' },
  dumps: { directory: '/data/dumps', max_bytes: 1073741824 },
};

interface Manifest { apiVersion: string; kind: string; metadata: { name: string }; spec: Record<string, any> }
interface Container { name: string; args: string[]; env: { name: string; value?: string }[]; ports?: { name: string; containerPort: number }[]; livenessProbe?: any; readinessProbe?: any }

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/Service': core.Service, 'v1/Secret': core.Secret,
  'apps/v1/Deployment': apps.Deployment, 'apps/v1/StatefulSet': apps.StatefulSet,
  'networking.k8s.io/v1/Ingress': networking.Ingress,
};

function valuesFile(values: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'helm-values-')), 'values.yaml');
  writeFileSync(path, stringify(values));
  return path;
}

/** option → its values, in order */
function options(args: string[]): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (let i = 1; i < args.length; i += 2) found.set(args[i], [...(found.get(args[i]) ?? []), args[i + 1]]);
  return found;
}

describe('Helm chart', function () {
  this.timeout(120_000);
  let helm: string;

  before(async function () {
    const { helm: binary, missing } = await helmBinary();
    if (!binary) {
      console.log(`      skipped: ${missing}`);
      this.skip();
    }
    helm = binary!;
  });

  async function render(values: unknown): Promise<Manifest[]> {
    const { stdout } = await run(helm, ['template', 'beamline', CHART, '-f', valuesFile(values)]);
    return parseAllDocuments(stdout).map((d) => d.toJS()).filter(Boolean);
  }

  const container = (manifests: Manifest[], kind: string, name: string): Container => {
    const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
    expect(found, `${kind} ${name}`).to.not.equal(undefined);
    return found!.spec.template.spec.containers[0];
  };

  it('passes helm lint --strict with the default values and with every option set', async () => {
    for (const values of [{}, FULL, { redis: { enabled: false, url: 'redis://redis.daq.svc:6379/0' }, ingesters: { orca: { connect_url: 'tcp://orca:9999', protocol: 'stins' } } }]) {
      const { stdout } = await run(helm, ['lint', '--strict', CHART, '-f', valuesFile(values)]);
      expect(stdout).to.contain('0 chart(s) failed');
    }
  });

  it('renders manifests that are valid Kubernetes objects', async () => {
    const manifests = await render(FULL);
    const kinds = manifests.map((m) => `${m.apiVersion}/${m.kind}`);
    expect(new Set(kinds)).to.deep.equal(new Set(Object.keys(MODELS)));
    for (const manifest of manifests) {
      const Model = MODELS[`${manifest.apiVersion}/${manifest.kind}`];
      expect(() => new Model(manifest).validate(), `${manifest.kind} ${manifest.metadata.name}`).to.not.throw();
    }
    // a part per ingester, the controller, the reducer, Redis and a debug worker; the workers in a StatefulSet
    expect(manifests.filter((m) => m.kind === 'Deployment')).to.have.length(5 + 4);
    expect(manifests.find((m) => m.kind === 'StatefulSet')?.spec.replicas).to.equal(3);
  });

  it('wires the parts as dranspose run does, with options the CLI knows', async () => {
    const manifests = await render(FULL);
    const specs = childSpecs(parsePipelineConfig(SAME_AS_CONFIG, PAYLOAD_DIR));
    const containers = manifests.filter((m) => m.kind === 'Deployment' || m.kind === 'StatefulSet')
      .map((m) => ({ name: m.metadata.name, container: m.spec.template.spec.containers[0] as Container }));
    const helps = new Map<string, Promise<string>>();
    for (const { name, container: c } of containers.filter(({ name }) => !name.endsWith('-redis'))) {
      const env = Object.fromEntries(c.env.map((e) => [e.name, e.value]));
      expect(env, name).to.include({ DRANSPOSE_REDIS_URL: 'redis://beamline-redis:6379/0', DRANSPOSE_PIPELINE: 'nanomax', DRANSPOSE_CORS_ORIGINS: 'https://dashboard.beamline.example' });
      expect(c.env.find((e) => e.name === 'DRANSPOSE_TOKEN'), name).to.not.equal(undefined);
      if (!helps.has(c.args[0])) helps.set(c.args[0], run(process.execPath, [BIN, c.args[0], '--help']).then((r) => r.stdout));
      const help = await helps.get(c.args[0])!;
      for (const option of options(c.args).keys()) expect(help, `${name}: dranspose ${c.args[0]} ${option}`).to.match(new RegExp(`(^|[ ,])${option}[ ,]`, 'm'));
    }
    for (const spec of specs) {
      const [command] = spec.args;
      const wanted = options(spec.args);
      const rendered = options(command === 'worker' ? container(manifests, 'StatefulSet', 'beamline-worker').args
        : command === 'reducer' ? container(manifests, 'Deployment', 'beamline-reducer').args
        : command === 'debug-worker' ? container(manifests, 'Deployment', `beamline-debug-${spec.name}`).args
        : container(manifests, 'Deployment', `beamline-ingester-${spec.name}`).args);
      // a part alone listens on every interface and advertises its Service; one worker process is one pod, named after it
      for (const [option, values] of wanted) {
        if (option === '--bind') expect(rendered.get('--bind'), spec.name).to.deep.equal(['tcp://0.0.0.0:10010']);
        else if (option === '--host') expect(rendered.get('--host'), spec.name).to.deep.equal(['0.0.0.0']);
        else if (option === '--port' && command === 'debug-worker') expect(rendered.get('--port'), spec.name).to.have.length(1);
        else if (option === '--class') expect(rendered.get('--class')!.map((c) => resolve(PAYLOAD_DIR, c)), spec.name).to.deep.equal(values);
        else if (option === '--name' && command === 'worker') expect(rendered.get('--name'), spec.name).to.deep.equal(['$(POD_NAME)']);
        else expect(rendered.get(option), `${spec.name} ${option}`).to.deep.equal(values);
      }
      if (wanted.has('--bind')) expect(rendered.get('--advertise'), spec.name).to.have.length(1);
    }
  });

  it('advertises Services that lead to the ports the parts bind, and probes the HTTP parts', async () => {
    const manifests = await render(FULL);
    const services = new Map(manifests.filter((m) => m.kind === 'Service').map((m) => [m.metadata.name, m]));
    for (const m of manifests.filter((m) => m.kind === 'Deployment')) {
      const c = m.spec.template.spec.containers[0] as Container;
      const advertise = options(c.args).get('--advertise')?.[0];
      if (!advertise) continue;
      const service = services.get(advertise);
      expect(service, `${m.metadata.name} advertises ${advertise}`).to.not.equal(undefined);
      expect(service!.spec.selector).to.deep.equal(m.spec.selector.matchLabels);
      const bound = Number(options(c.args).get('--bind')![0].split(':').at(-1));
      const port = service!.spec.ports.find((p: { port: number }) => p.port === bound);
      expect(c.ports?.find((p) => p.name === port?.targetPort)?.containerPort, m.metadata.name).to.equal(bound);
    }
    const controller = container(manifests, 'Deployment', 'beamline-controller');
    expect([controller.livenessProbe.httpGet.path, controller.readinessProbe.httpGet.path]).to.deep.equal(['/healthz', '/readyz']);
    expect(container(manifests, 'Deployment', 'beamline-reducer').readinessProbe.httpGet.path).to.equal('/api/v1/status');
    const ingester = manifests.find((m) => m.kind === 'Deployment' && m.metadata.name === 'beamline-ingester-contrast')!.spec.template.spec;
    expect(ingester.volumes).to.deep.equal([{ name: 'dumps', persistentVolumeClaim: { claimName: 'dumps' } }]);
    expect(ingester.containers[0].volumeMounts).to.deep.equal([{ name: 'dumps', mountPath: '/data/dumps' }]);
    const ingresses = manifests.filter((m) => m.kind === 'Ingress').map((m) => m.spec.rules[0].host);
    expect(ingresses).to.deep.equal(['beamline-controller.daq.example.org', 'beamline-reducer.daq.example.org']);
  });

  it('uses an external Redis instead of its own', async () => {
    const manifests = await render({ redis: { enabled: false, url: 'redis://redis.daq.svc:6379/2' } });
    expect(manifests.filter((m) => m.metadata.name === 'beamline-redis')).to.deep.equal([]);
    const env = container(manifests, 'Deployment', 'beamline-controller').env;
    expect(env.find((e) => e.name === 'DRANSPOSE_REDIS_URL')?.value).to.equal('redis://redis.daq.svc:6379/2');
  });

  it('refuses values its schema does not allow, naming them', async () => {
    const refusal = async (values: unknown) => (await run(helm, ['template', 'beamline', CHART, '-f', valuesFile(values)]).then(() => undefined, (e) => e))?.stderr ?? '';
    expect(await refusal({ workerz: 2 })).to.contain('workerz');
    expect(await refusal({ ingesters: { orca: { connect_url: 'tcp://orca:9999' } } })).to.contain('protocol');
    expect(await refusal({ ingesters: { orca: { connect_url: 'tcp://orca:9999', protocol: 'nope' } } })).to.contain('ingesters.orca.protocol');
    expect(await refusal({ redis: { enabled: false } })).to.contain('redis');
    expect(await refusal({ ingesters: { orca: { connect_url: 'tcp://orca:9999', ingester_class: 'NoSuchIngester' } } })).to.contain('NoSuchIngester');
  });
});

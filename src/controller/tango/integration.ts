/**
 * The Tango device of a `dranspose run` pipeline: the REST device model mounted on the controller,
 * the components the configuration promises (for FAULT when one is missing), and the PyTango
 * bridge started as a supervised child in -nodb mode on `tango.host:tango.port`.
 */
import { fileURLToPath } from 'node:url';
import type Router from '@koa/router';
import type { PipelineConfig } from '../../core/config.js';
import type { Controller } from '../controller.js';
import { childSpecs, type ChildSpec } from '../supervisor.js';
import type { ExpectedComponents } from './health.js';
import { PipelineDevice } from './model.js';
import { tangoRouter } from './rest.js';

type TangoSection = NonNullable<PipelineConfig['tango']>;

const BRIDGE = fileURLToPath(new URL('../../../tango/dranspose_device.py', import.meta.url));
/** Debian's Python, where python3-tango lives (a pyenv `python3` on PATH cannot import it) */
const PYTHON = process.env.DRANSPOSE_TANGO_PYTHON ?? '/usr/bin/python3';

/** the processes of the configuration, with the first worker group at its current size */
function expectedComponents(config: PipelineConfig, workerCount?: number): ExpectedComponents {
  const [first, ...rest] = config.workers;
  const workers = first && workerCount !== undefined ? [{ ...first, count: workerCount }, ...rest] : config.workers;
  const specs = childSpecs({ ...config, workers });
  const named = (...commands: string[]) => specs.filter((s) => commands.includes(s.args[0])).map((s) => s.name);
  return { ingesters: named('ingester'), workers: named('worker', 'debug-worker'), reducer: true };
}

/** the bridge's command line: `-nodb` device on a fixed loopback-or-configured CORBA end point */
function bridgeSpec(tango: TangoSection, controllerUrl: string, instance: string): ChildSpec {
  return {
    name: 'tango-bridge',
    command: PYTHON,
    args: [BRIDGE, '--controller-url', controllerUrl, instance, '-nodb', '-dlist', tango.device, '-ORBendPoint', `giop:tcp:${tango.host}:${tango.port}`],
  };
}

export class PipelineTango {
  private device?: PipelineDevice;

  constructor(private readonly config: PipelineConfig & { tango: TangoSection }) {}

  /** for `startControllerServer({ routers })`: the device model needs the controller */
  readonly routers = (controller: Controller): Router[] => {
    this.device = new PipelineDevice(controller, {
      device: this.config.tango.device,
      expected: () => expectedComponents(this.config, controller.workerScaler?.workerCount),
    });
    return [tangoRouter(this.device)];
  };

  bridge(controllerHost: string, controllerPort: number): ChildSpec {
    const host = ['0.0.0.0', '::', ''].includes(controllerHost) ? '127.0.0.1' : controllerHost;
    return bridgeSpec(this.config.tango, `http://${host.includes(':') ? `[${host}]` : host}:${controllerPort}`, this.config.name);
  }

  close(): void {
    this.device?.close();
  }
}

/**
 * The Tango device of a `dranspose run` pipeline: the REST device model mounted on the controller,
 * the components the configuration promises (for FAULT when one is missing), the live results it
 * serves (`tango.results`), and the PyTango bridge started as a supervised child on
 * `tango.host:tango.port`: registered in the Tango database of TANGO_HOST and served from it when
 * TANGO_HOST is set, else in -nodb mode.
 */
import { fileURLToPath } from 'node:url';
import type Router from '@koa/router';
import type { PipelineConfig } from '../../core/config.js';
import type { Controller } from '../controller.js';
import { childSpecs, type ChildSpec } from '../supervisor.js';
import type { ExpectedComponents } from './health.js';
import { PipelineDevice } from './model.js';
import { tangoRouter } from './rest.js';
import { LiveResults } from './results.js';

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

/**
 * The bridge's command line on a fixed loopback-or-configured CORBA end point: registered in the
 * database of `tangoHost` when there is one (cppTango 9.3's `-nodb` devices lose their change events
 * after about 10 s), else a `-nodb` device.
 */
function bridgeSpec(tango: TangoSection, controllerUrl: string, instance: string, tangoHost = process.env.TANGO_HOST): ChildSpec {
  const endPoint = ['-ORBendPoint', `giop:tcp:${tango.host}:${tango.port}`];
  return {
    name: 'tango-bridge',
    command: PYTHON,
    args: tangoHost
      ? [BRIDGE, '--controller-url', controllerUrl, '--register', tango.device, instance, ...endPoint]
      : [BRIDGE, '--controller-url', controllerUrl, instance, '-nodb', '-dlist', tango.device, ...endPoint],
  };
}

export class PipelineTango {
  private device?: PipelineDevice;

  constructor(private readonly config: PipelineConfig & { tango: TangoSection }) {}

  /** for `startControllerServer({ routers })`: the device model needs the controller */
  readonly routers = (controller: Controller): Router[] => {
    const { device, results } = this.config.tango;
    this.device = new PipelineDevice(controller, {
      device,
      expected: () => expectedComponents(this.config, controller.workerScaler?.workerCount),
      results: Object.keys(results).length ? new LiveResults(controller, results) : undefined,
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

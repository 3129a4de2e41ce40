/**
 * Progress of a long CLI job (demo, run, replay, source, capture): a cli-progress bar on a
 * terminal, with log lines printed above it instead of through it; plain periodic lines when the
 * output is piped or a file, so CI logs stay readable.
 */
import cliProgress from 'cli-progress';
import Transport from 'winston-transport';
import winston from 'winston';
import { rootLogger } from '../core/logging.js';

export interface ProgressOptions {
  /** what is counted, e.g. `events` */
  unit: string;
  /** undefined while unknown: the bar shows the count only */
  total?: number;
  stream?: NodeJS.WriteStream;
  /** seconds between plain lines when not on a terminal */
  plainEverySeconds?: number;
}

export interface Progress {
  update(value: number, total?: number): void;
  /** ends the bar (or prints the last plain line) */
  stop(): void;
}

const MESSAGE = Symbol.for('message');

/** routes log records through `print` while a bar is drawn, and back to the console afterwards */
class BarLogTransport extends Transport {
  constructor(private readonly print: (line: string) => void) { super(); }

  override log(info: Record<string | symbol, unknown>, done: () => void): void {
    this.print(`${String(info[MESSAGE] ?? info.message)}\n`);
    done();
  }
}

function rate(value: number, since: number): number {
  return Math.round(value / Math.max(0.001, (Date.now() - since) / 1000));
}

export function startProgress(label: string, options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const started = Date.now();
  let total = options.total;
  let value = 0;
  if (!stream.isTTY) {
    const line = () => `${label}: ${value}${total === undefined ? '' : `/${total}`} ${options.unit}, ${rate(value, started)} ${options.unit}/s\n`;
    const timer = setInterval(() => stream.write(line()), (options.plainEverySeconds ?? 2) * 1000);
    timer.unref();
    return {
      update(next, nextTotal) { value = next; total = nextTotal ?? total; },
      stop() { clearInterval(timer); stream.write(line()); },
    };
  }
  const bars = new cliProgress.MultiBar({
    stream, hideCursor: true, clearOnComplete: false, barsize: 30,
    format: total === undefined ? `${label} {value} ${options.unit} | {rate} ${options.unit}/s` : `${label} |{bar}| {value}/{total} ${options.unit} | {rate} ${options.unit}/s`,
  }, cliProgress.Presets.shades_classic);
  const bar = bars.create(total ?? 0, 0, { rate: 0 });
  const consoles = rootLogger.transports.filter((t) => t instanceof winston.transports.Console);
  const viaBar = new BarLogTransport((text) => bars.log(text));
  for (const transport of consoles) rootLogger.remove(transport);
  rootLogger.add(viaBar);
  return {
    update(next, nextTotal) {
      value = next;
      if (nextTotal !== undefined && nextTotal !== total) { total = nextTotal; bar.setTotal(nextTotal); }
      bar.update(next, { rate: rate(next, started) });
    },
    stop() {
      bars.stop();
      rootLogger.remove(viaBar);
      for (const transport of consoles) rootLogger.add(transport);
    },
  };
}

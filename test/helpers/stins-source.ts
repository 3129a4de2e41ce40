/** An emulated STINS detector on a real PUSH socket, bound to a free port. */
import { bindZmqPlayer, type ZmqPlayer } from '../../src/protocols/player.js';
import { emulatedImage, stinsSeries, type PlaySeriesOptions } from '../../src/protocols/stins/emulator.js';

export class StinsSource {
  private constructor(private readonly player: ZmqPlayer) {}

  static async bind(): Promise<StinsSource> {
    return new StinsSource(await bindZmqPlayer('zmq-pull', 'tcp://127.0.0.1:0'));
  }

  get endpoint(): string {
    return this.player.endpoint;
  }

  /** for messages sent as they are, unpaced */
  get socket(): ZmqPlayer['socket'] {
    return this.player.socket;
  }

  /** sends one series, paced at `options.rate`; resolves to the number of messages sent */
  play(options: PlaySeriesOptions): Promise<number> {
    return this.player.play(stinsSeries(options), options);
  }

  /** sum of all pixels of image `frame` of a series with these options */
  static imageSum(options: PlaySeriesOptions, frame: number): number {
    return (emulatedImage(options, frame).data as Uint16Array).reduce((a, b) => a + b, 0);
  }

  close(): void {
    this.player.close();
  }
}

/** the sums examples/roi's RoiWorker gives (default roi [0, 16, 0, 16]) of the STINS emulator's images */
export function roiSums(frames: number, shape: number[]): number[] {
  return Array.from({ length: frames }, (_, frame) => {
    const { data } = emulatedImage({ frames, shape, dtype: 'uint16' }, frame);
    let sum = 0;
    for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) sum += Number(data[y * shape[1] + x]);
    return sum;
  });
}

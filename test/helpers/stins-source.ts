/** An emulated STINS detector on a real PUSH socket, bound to a free port. */
import * as zmq from 'zeromq';
import { emulatedImage, playSeries, type PlaySeriesOptions } from '../../src/protocols/stins/emulator.js';

export class StinsSource {
  readonly socket = new zmq.Push({ linger: 0 });
  endpoint = '';

  static async bind(): Promise<StinsSource> {
    const source = new StinsSource();
    await source.socket.bind('tcp://127.0.0.1:*');
    source.endpoint = source.socket.lastEndpoint!;
    return source;
  }

  play(options: PlaySeriesOptions): Promise<number> {
    return playSeries(this.socket, options);
  }

  /** sum of all pixels of image `frame` of a series with these options */
  static imageSum(options: PlaySeriesOptions, frame: number): number {
    return (emulatedImage(options, frame).data as Uint16Array).reduce((a, b) => a + b, 0);
  }

  close(): void {
    this.socket.close();
  }
}

/**
 * One upstream stream played into a live pipeline (`dranspose run`): each test starts a fresh
 * player (PUSH or PUB, as the protocol's transport asks) and a pipeline whose one ingester reads
 * it; both are stopped after the test.
 */
import { loadProtocol } from '../../src/protocols/index.js';
import { bindZmqPlayer, type ZmqPlayer } from '../../src/protocols/player.js';
import { startPipeline, type TestPipeline } from './pipeline.js';

export interface LiveStreamSpec {
  protocol: string;
  stream: string;
  ingester: string;
  /** `module.ts:Export` */
  worker: string;
  reducer: string;
  workers?: number;
}

export interface LiveStream {
  pipeline: TestPipeline;
  player: ZmqPlayer;
}

/** call inside a `describe`: registers the cleanup and returns the starter */
export function liveStream(spec: LiveStreamSpec): { start(): Promise<LiveStream> } {
  let player: ZmqPlayer | undefined;
  let pipeline: TestPipeline | undefined;
  afterEach(async () => {
    await pipeline?.stop();
    player?.close();
    pipeline = player = undefined;
  });
  return {
    async start() {
      const { transport } = await loadProtocol(spec.protocol);
      if (transport !== 'zmq-pull' && transport !== 'zmq-sub') throw new Error(`liveStream plays zmq upstreams, not ${transport}`);
      player = await bindZmqPlayer(transport, 'tcp://127.0.0.1:0');
      const workers = spec.workers ?? 2;
      pipeline = await startPipeline({
        ingesters: [{ name: spec.ingester, streams: [{ name: spec.stream, protocol: spec.protocol, upstream: player.endpoint }] }],
        workers: [{ class: spec.worker, count: workers }],
        reducer: { class: spec.reducer },
      }, { ingesters: 1, workers });
      return { pipeline, player };
    },
  };
}

/** RequestMirror: copies of forwarded requests to other clusters; their answers are discarded. */
import type { Dispatcher } from 'undici';
import type { Upstream } from '../upstreams.ts';
import type { DataplaneFilter, FilterCluster } from './filter.ts';

interface CompiledMirror {
  readonly cluster: FilterCluster;
  readonly percent: number;
}

/** Discards a mirror's response and gives its endpoint slot back when the exchange ends. */
class MirrorHandler implements Dispatcher.DispatchHandler {
  private readonly upstream: Upstream;
  private released = false;

  constructor(upstream: Upstream) {
    this.upstream = upstream;
  }

  // undici tells a new-style handler from a legacy one by these methods: all must exist.
  onRequestStart(): void {}
  onResponseStart(): void {}
  onResponseData(): void {}

  onResponseEnd(): void {
    this.release();
  }

  onResponseError(): void {
    this.release();
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    this.upstream.release();
  }
}

export const requestMirror: DataplaneFilter = {
  type: 'RequestMirror',
  rule(action, context) {
    const mirrors: CompiledMirror[] = [];
    for (const mirror of action.mirrors) {
      const cluster = context.cluster(mirror.clusterId);
      if (cluster !== undefined && mirror.percent > 0) mirrors.push({ cluster, percent: mirror.percent });
    }
    if (mirrors.length === 0) return undefined;
    return {
      copy(request) {
        const now = performance.now();
        for (const mirror of mirrors) {
          if (mirror.percent < 100 && Math.random() * 100 >= mirror.percent) continue;
          const upstream = mirror.cluster.supported ? mirror.cluster.endpoints.pick(undefined, now) : undefined;
          // A mirror copy is the first thing to drop when the endpoint is full.
          if (upstream === undefined || !upstream.tryAcquire()) continue;
          const handler = new MirrorHandler(upstream);
          try {
            upstream.dispatch({ method: request.method, path: request.path, headers: { ...request.headers }, body: request.body() }, handler);
          } catch (error) {
            handler.onResponseError();
            request.log.debug({ err: error, cluster: mirror.cluster.id }, 'mirror dispatch failed');
          }
        }
      },
    };
  },
};

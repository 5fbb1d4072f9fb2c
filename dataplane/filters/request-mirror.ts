/** RequestMirror: copies of forwarded requests to other clusters; their answers are discarded. */
import type { Dispatcher } from 'undici';
import type { Upstream } from '../upstreams.ts';
import type { DataplaneFilter, FilterCluster } from './filter.ts';

interface CompiledMirror {
  readonly cluster: FilterCluster;
  readonly percent: number;
}

/** Discards a mirror's response, gives its endpoint slot back and ends its span when the exchange ends. */
class MirrorHandler implements Dispatcher.DispatchHandler {
  private readonly upstream: Upstream;
  private readonly endTrace: ((status: number, error?: string) => void) | undefined;
  private status = 0;
  private released = false;

  constructor(upstream: Upstream, endTrace: ((status: number, error?: string) => void) | undefined) {
    this.upstream = upstream;
    this.endTrace = endTrace;
  }

  // undici tells a new-style handler from a legacy one by these methods: all must exist.
  onRequestStart(): void {}
  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number): void {
    this.status = statusCode;
  }

  onResponseData(): void {}

  onResponseEnd(): void {
    this.release();
  }

  onResponseError(_controller?: Dispatcher.DispatchController, error?: Error): void {
    this.release(error?.message ?? 'mirror failed');
  }

  private release(error?: string): void {
    if (this.released) return;
    this.released = true;
    this.upstream.release();
    this.endTrace?.(this.status, error);
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
          const headers = { ...request.headers };
          const handler = new MirrorHandler(upstream, request.traceCopy?.(upstream, mirror.cluster.id, headers));
          try {
            upstream.dispatch({ method: request.method, path: request.path, headers, body: request.body() }, handler);
          } catch (error) {
            handler.onResponseError();
            request.log.debug({ err: error, cluster: mirror.cluster.id }, 'mirror dispatch failed');
          }
        }
      },
    };
  },
};

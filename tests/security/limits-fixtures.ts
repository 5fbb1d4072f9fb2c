/**
 * Shared pieces of the resource-limit attack tests: a real dataplane (real Redis, real sockets)
 * serving a config with small limits, raw client sockets that record what came back and when
 * the server closed them, a probe that measures an unrelated client's latency during an
 * attack, and metric reads from the dataplane's Prometheus registry.
 */
import { connect, type Socket } from 'node:net';
import type { Cluster, DataplaneConfig, RuleAction } from '../../api-types/dataplane-config.ts';
import type { Limits } from '../../api-types/limits.ts';
import type { Dataplane } from '../../dataplane/dataplane.ts';
import { startEcho, type EchoServer } from '../harness/echo/server.ts';
import { redis, redisClient, type TestContext } from '../harness/index.ts';
import { action, dataplaneConfig, echoCluster, newGateway, publish, published, rule, startDataplane, waitForVersion } from '../integration/dataplane-fixtures.ts';

export interface Served {
  dataplane: Dataplane;
  echo: EchoServer;
}

export async function echoBackend(t: TestContext): Promise<EchoServer> {
  const echo = await startEcho({ log: () => undefined });
  t.teardown(() => echo.close());
  return echo;
}

/** A dataplane serving `listeners` (default: one HTTP port proxying everything to an echo backend) under `limits`. */
export async function serveWithLimits(
  t: TestContext,
  limits: Limits,
  build: (echo: EchoServer) => { listeners: DataplaneConfig['listeners']; actions?: RuleAction[]; clusters?: Cluster[]; certificates?: DataplaneConfig['certificates'] },
): Promise<Served> {
  const { url } = await redis();
  const client = await redisClient(t);
  const echo = await echoBackend(t);
  const gateway = newGateway();
  const dataplane = await startDataplane(t, url, gateway, { drainTimeoutMs: 500 });
  const parts = build(echo);
  const config = dataplaneConfig(gateway, {
    listeners: parts.listeners,
    actions: parts.actions ?? [action('echo', 'echo')],
    clusters: parts.clusters ?? [echoCluster('echo', [echo])],
    limits,
  });
  await publish(client, gateway, published({ ...config, certificates: parts.certificates ?? [] }, 1));
  await waitForVersion(dataplane, 1);
  return { dataplane, echo };
}

export function httpListener(port: number, extra: Partial<Parameters<typeof rule>[1]> = {}): DataplaneConfig['listeners'][number] {
  return { id: 'test/gw/http', port, protocol: 'HTTP', rules: [rule(0, extra)] };
}

/** A raw client connection that keeps everything the server sent and when it closed. */
export interface RawClient {
  readonly socket: Socket;
  /** Bytes received so far, as latin1 text. */
  received(): string;
  /** Resolves with the milliseconds from `connect` until the server closed the connection. */
  closed: Promise<number>;
}

export async function rawClient(port: number): Promise<RawClient> {
  const socket = connect({ host: '127.0.0.1', port });
  const started = performance.now();
  let data = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => { data += chunk; });
  socket.on('error', () => undefined);
  // Not events.once: it rejects on 'error', and a reset is one of the outcomes being measured.
  const closed = new Promise<number>((resolve) => socket.once('close', () => { resolve(performance.now() - started); }));
  await Promise.race([new Promise((resolve) => socket.once('connect', resolve)), closed]);
  return { socket, received: () => data, closed };
}

/** Writes `text` one byte every `intervalMs` until the socket closes or the text is sent. */
export function drip(socket: Socket, text: string, intervalMs: number): void {
  let index = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || index >= text.length) {
      clearInterval(timer);
      return;
    }
    socket.write(text[index++] ?? '');
  }, intervalMs);
  socket.once('close', () => { clearInterval(timer); });
}

/**
 * Sends an ordinary request on its own connection every `everyMs` until stopped; reports the
 * worst latency and whether every answer was a 200. This is the "other clients are not
 * affected" measurement.
 */
export function latencyProbe(port: number, path = '/probe', everyMs = 50): { stop(): Promise<{ worstMs: number; count: number; failures: string[] }> } {
  const state = { stopped: false };
  let worstMs = 0;
  let count = 0;
  const failures: string[] = [];
  const loop = (async () => {
    while (!state.stopped) {
      const started = performance.now();
      try {
        const answer = await oneRequest(port, `GET ${path} HTTP/1.1\r\nhost: probe.example.test\r\nconnection: close\r\n\r\n`);
        if (!answer.startsWith('HTTP/1.1 200')) failures.push(answer.slice(0, 40));
      } catch (error) {
        failures.push((error as Error).message);
      }
      worstMs = Math.max(worstMs, performance.now() - started);
      count++;
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    async stop() {
      state.stopped = true;
      await loop;
      return { worstMs, count, failures };
    },
  };
}

/** Sends `request` on a new connection and resolves with everything received until the server closes. */
export async function oneRequest(port: number, request: string, timeoutMs = 5_000): Promise<string> {
  const client = await rawClient(port);
  client.socket.write(request);
  const timer = setTimeout(() => client.socket.destroy(new Error('no answer in time')), timeoutMs);
  await client.closed;
  clearTimeout(timer);
  return client.received();
}

/** The value of a counter (0 when the series does not exist yet). */
export async function counterValue(dataplane: Dataplane, name: string, labels: Record<string, string>): Promise<number> {
  const metric = dataplane.metrics.registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  const series = values.find((value) => Object.entries(labels).every(([key, expected]) => String(value.labels[key]) === expected));
  return series?.value ?? 0;
}

/**
 * `npm run bench -- tracing`: the cost of request tracing. The same dataplane process
 * (`node dataplane/main.ts`, pinned to CPU 0) serves one route to the echo backend, alternately
 * with tracing off and with every request traced (`OTEL_TRACES_SAMPLER=always_on`: a server and
 * a client span per request, exported over OTLP/HTTP to a local collector stand-in that
 * counts what it receives), in alternating order over BENCH_ROUNDS rounds (default 3); the
 * medians are compared. Target: traced ≥ 0.85 × untraced throughput. Writes `.bench/tracing.json`.
 * Needs wrk, redis-server and taskset.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { Redis } from 'ioredis';
import { startRedis } from '../../tests/harness/redis.ts';
import { freePorts } from '../../tests/harness/ports.ts';
import { publishOneRoute } from './dataplane.ts';
import { CONNECTIONS, DURATION_S, measure, pinned, requireTool, stop, waitForHttp, type LoadResult } from './load.ts';
import { printTable, writeResult } from './report.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

/** Accepts OTLP/HTTP exports and counts requests and bytes, as a collector that keeps up would. */
async function collectorStandIn(): Promise<{ url: string; exports: () => number; bytes: () => number; close: () => void }> {
  let exports = 0;
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => { bytes += chunk.length; });
    req.on('end', () => {
      exports++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    exports: () => exports,
    bytes: () => bytes,
    close: () => { server.closeAllConnections(); server.close(); },
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] ?? NaN : ((sorted[middle - 1] ?? NaN) + (sorted[middle] ?? NaN)) / 2;
}

export async function run(): Promise<void> {
  for (const tool of ['taskset', 'wrk', 'redis-server']) requireTool(tool);
  const redisServer = await startRedis();
  const collector = await collectorStandIn();
  const children: ChildProcess[] = [];
  try {
    const [backendPort, weirPort, adminPort] = (await freePorts(3)) as [number, number, number];
    const echo = pinned(1, process.execPath, ['tests/harness/echo/main.ts'], { ...process.env, HTTP_PORT: String(backendPort), H2C_PORT: '0', ECHO_HOST: '127.0.0.1', ECHO_QUIET: '1', POD_NAME: 'bench' });
    children.push(echo);
    await waitForHttp(`http://127.0.0.1:${backendPort}/health`);
    const redis = new Redis(redisServer.url);
    await publishOneRoute(redis, weirPort, backendPort);
    redis.disconnect();

    const inherited = { ...process.env };
    for (const name of Object.keys(inherited)) if (name.startsWith('OTEL_')) Reflect.deleteProperty(inherited, name);
    const base: NodeJS.ProcessEnv = {
      ...inherited,
      REDIS_URL: redisServer.url, WEIR_GATEWAY: 'bench/gw', POD_NAME: 'bench', WEIR_LISTEN_HOST: '127.0.0.1', WEIR_ADMIN_HOST: '127.0.0.1',
      WEIR_ADMIN_PORT: String(adminPort), LOG_LEVEL: 'warn', NODE_ENV: 'production',
    };
    const traced: NodeJS.ProcessEnv = { ...base, OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_TRACES_SAMPLER: 'always_on' };
    const runs: Record<'off' | 'on', LoadResult[]> = { off: [], on: [] };
    console.log(`load: wrk -t1 -c${CONNECTIONS} ${DURATION_S}s per run (after a 2 s warm-up), ${ROUNDS} rounds alternating the order; weir on CPU 0, echo + wrk on CPU 1`);
    for (let round = 0; round < ROUNDS; round++) {
      const order: ('off' | 'on')[] = round % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
      for (const mode of order) {
        const weir = pinned(0, process.execPath, ['dataplane/main.ts'], mode === 'on' ? traced : base);
        children.push(weir);
        await waitForHttp(`http://127.0.0.1:${adminPort}/readyz`);
        runs[mode].push(await measure(`round ${round + 1}, tracing ${mode}`, `http://127.0.0.1:${weirPort}/bench`, weir.pid));
        await stop(weir);
      }
    }
    await stop(echo);
    const off = median(runs.off.map((r) => r.rps));
    const on = median(runs.on.map((r) => r.rps));
    const result = {
      untraced_rps_median: Math.round(off),
      traced_rps_median: Math.round(on),
      traced_over_untraced: Math.round((on / off) * 1000) / 1000,
      // Steadier than throughput on a busy machine: what one request costs the proxy's CPU.
      cpu_untraced_over_traced: Math.round((median(runs.off.map((r) => r.cpuUsPerRequest ?? NaN)) / median(runs.on.map((r) => r.cpuUsPerRequest ?? NaN))) * 1000) / 1000,
      untraced_cpu_us_per_request: Math.round(median(runs.off.map((r) => r.cpuUsPerRequest ?? NaN)) * 10) / 10,
      traced_cpu_us_per_request: Math.round(median(runs.on.map((r) => r.cpuUsPerRequest ?? NaN)) * 10) / 10,
      untraced_p99_ms: Math.round(median(runs.off.map((r) => r.p99Ms)) * 1000) / 1000,
      traced_p99_ms: Math.round(median(runs.on.map((r) => r.p99Ms)) * 1000) / 1000,
      untraced_rps_runs: runs.off.map((r) => Math.round(r.rps)),
      traced_rps_runs: runs.on.map((r) => Math.round(r.rps)),
      otlp_exports_received: collector.exports(),
      otlp_bytes_received: collector.bytes(),
      rounds: ROUNDS,
      connections: CONNECTIONS,
      duration_s: DURATION_S,
      load_average_1m: Math.round((loadavg()[0] ?? NaN) * 100) / 100,
    };
    printTable('tracing overhead (same dataplane, route, echo backend and wrk; medians)', [
      { tracing: 'off', 'req/s': result.untraced_rps_median, 'p99 ms': result.untraced_p99_ms, 'CPU µs/req': result.untraced_cpu_us_per_request, runs: result.untraced_rps_runs.join(' ') },
      { tracing: 'on, 100 %', 'req/s': result.traced_rps_median, 'p99 ms': result.traced_p99_ms, 'CPU µs/req': result.traced_cpu_us_per_request, runs: result.traced_rps_runs.join(' ') },
    ]);
    printTable('target', [
      { metric: 'traced / untraced', value: result.traced_over_untraced, target: '>= 0.85', met: result.traced_over_untraced >= 0.85 ? 'yes' : 'no' },
      { metric: 'CPU per request: untraced / traced', value: result.cpu_untraced_over_traced, target: '>= 0.85', met: result.cpu_untraced_over_traced >= 0.85 ? 'yes' : 'no' },
      { metric: 'OTLP exports received (MB)', value: `${result.otlp_exports_received} (${(result.otlp_bytes_received / 1e6).toFixed(1)})`, target: '> 0', met: result.otlp_exports_received > 0 ? 'yes' : 'no' },
    ]);
    console.log(`wrote ${writeResult('tracing', result)}`);
  } finally {
    await Promise.all(children.map((child) => stop(child)));
    collector.close();
    await redisServer.close();
  }
}

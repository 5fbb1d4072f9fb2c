/**
 * `npm run bench -- dataplane`: one route to one echo backend, measured with the same load
 * generator (wrk) directly, through Weir (`node dataplane/main.ts`) and through nginx (one
 * worker, upstream keepalive); plus in-process measurements of route lookup cost at 10 and
 * 10,000 routes and of swapping in a 1,000-route config. Writes `.bench/dataplane.json`.
 *
 * `--lookup-only` runs just the lookup measurement.
 *
 * CPU layout on a 2-core machine: each proxy is pinned to CPU 0; the echo backend and wrk share
 * CPU 1 in every run (including direct), so all three runs see the same backend capacity.
 * Needs the Debian packages nginx, wrk, redis-server and util-linux (taskset).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { DATAPLANE_CONFIG_SCHEMA, type DataplaneConfig, type HttpRule, type PublishedConfig, type RuleAction } from '../../api-types/dataplane-config.ts';
import { decodeEnvelope, encodeEnvelope, encodeNotification, serializeConfig } from '../../api-types/config-codec.ts';
import { CONFIG_CHANNEL, configKey } from '../../api-types/redis-contract.ts';
import { compileConfig } from '../../dataplane/compile.ts';
import { hostOf } from '../../dataplane/hostnames.ts';
import { ListenerSet } from '../../dataplane/listeners.ts';
import { resolveListener, resolveRoute } from '../../dataplane/resolve.ts';
import { ConfigRuntime } from '../../dataplane/runtime.ts';
import { DataplaneMetrics } from '../../dataplane/telemetry/metrics.ts';
import { UpstreamRegistry } from '../../dataplane/upstreams.ts';
import { startRedis } from '../../tests/harness/redis.ts';
import { freePorts } from '../../tests/harness/ports.ts';
import { nginxConfig } from './nginx.ts';
import { CONNECTIONS, DURATION_S, measure, pinned, requireTool, stop, waitForHttp } from './load.ts';
import { printTable, writeResult } from './report.ts';

const gateway = { namespace: 'bench', name: 'gw' };

function nginxProxyConfig(dir: string, port: number, backendPort: number): string {
  return nginxConfig(dir, `  upstream echo {
    server 127.0.0.1:${backendPort};
    keepalive 128;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://echo;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
    }
  }`);
}

/** Publishes the bench's config (Gateway `bench/gw`): one route on `port` to the echo backend on `backendPort`. */
export async function publishOneRoute(redis: Redis, port: number, backendPort: number): Promise<void> {
  const config: PublishedConfig = published(dataplaneConfig({
    listeners: [{ id: 'bench/gw/http', port, protocol: 'HTTP', rules: [rule(0)] }],
    actions: [action('bench', 'echo')],
    clusters: [{ id: 'echo', backend: { kind: 'Service', namespace: 'bench', name: 'echo' }, protocol: 'http1', endpoints: [{ address: '127.0.0.1', port: backendPort, ready: true }] }],
  }), 1);
  await redis.multi().set(configKey(gateway), JSON.stringify(config)).publish(CONFIG_CHANNEL, encodeNotification({ gateway: 'bench/gw', epoch: 1, version: 1, digest: config.digest })).exec();
}

function dataplaneConfig(parts: Pick<DataplaneConfig, 'listeners' | 'actions' | 'clusters'>): DataplaneConfig {
  return {
    schema: DATAPLANE_CONFIG_SCHEMA,
    gateway,
    ...parts,
    certificates: [],
    caBundles: [],
    xfcc: { mode: 'Sanitize', subject: false, cert: false, chain: false, uri: false, dns: false },
    trustedProxyHops: 0,
  };
}

function published(config: DataplaneConfig, version: number): PublishedConfig {
  return { epoch: 1, version, digest: serializeConfig(config).digest, config };
}

function action(id: string, clusterId: string | undefined, extra: Partial<RuleAction> = {}): RuleAction {
  return { id, route: { kind: 'HTTPRoute', namespace: 'bench', name: id }, mirrors: [], backends: clusterId === undefined ? [] : [{ weight: 1, clusterId }], timeouts: {}, ...extra };
}

function rule(actionIndex: number, extra: { hostnames?: string[]; path?: HttpRule['match']['path']; headers?: HttpRule['match']['headers'] } = {}): HttpRule {
  return {
    hostnames: extra.hostnames ?? [],
    match: { path: extra.path ?? { type: 'PathPrefix', value: '/' }, headers: extra.headers ?? [], queryParams: [] },
    action: actionIndex,
    grpc: false,
  };
}

/**
 * A listener with `count` routes: half exact paths, half prefixes, spread over hostname buckets —
 * 10 hostnames plus a catch-all (routes without hostnames), or `count - 1` hostnames plus a
 * catch-all when there are fewer than 11 routes, so small and large tables have the same shape.
 */
function manyRoutes(count: number, port: number): DataplaneConfig {
  const rules: HttpRule[] = [];
  for (let i = 0; i < count; i++) {
    const hostnames = hostBucket(i, count) === undefined ? [] : [hostBucket(i, count)!];
    rules.push(i % 2 === 0
      ? rule(i % 4, { hostnames, path: { type: 'Exact', value: `/exact/${i}` } })
      : rule(i % 4, { hostnames, path: { type: 'PathPrefix', value: `/svc/${i}/api` }, headers: i % 3 === 0 ? [{ type: 'Exact', name: 'x-tenant', value: 'a' }] : [] }));
  }
  // Exact paths first, then longer prefixes: the translator's precedence order.
  rules.sort((a, b) => (a.match.path.type === b.match.path.type ? 0 : a.match.path.type === 'Exact' ? -1 : 1));
  return dataplaneConfig({
    listeners: [{ id: 'bench/gw/http', port, protocol: 'HTTP', rules }],
    actions: [0, 1, 2, 3].map((i) => action(`a${i}`, undefined, { directStatus: 200 })),
    clusters: [],
  });
}

/** The hostname of route `i` of `count` (undefined: the catch-all bucket). */
function hostBucket(i: number, count: number): string | undefined {
  const buckets = Math.min(count, 11);
  const bucket = i % buckets;
  return bucket === buckets - 1 ? undefined : `host${bucket}.example.com`;
}

/** A compiled `count`-route table and a loop timing lookups over a fixed request mix against it. */
async function lookupLoop(count: number): Promise<(iterations: number) => number> {
  const registry = new UpstreamRegistry();
  const compiled = await compileConfig(published(manyRoutes(count, 80), 1), { upstreams: registry, metrics: new DataplaneMetrics({ processMetrics: false }) });
  await registry.closeAll();
  // Requests that hit routes spread over the table (exact, prefix with extra segments, misses);
  // hosts of catch-all routes are a name no listener hostname bucket knows.
  const requests = Array.from({ length: 1_024 }, (_, i) => {
    const route = (i * 7919) % count;
    const host = hostBucket(route, count) ?? 'other.example.org';
    const path = i % 5 === 4 ? `/missing/${i}` : route % 2 === 0 ? `/exact/${route}` : `/svc/${route}/api/items/${i}`;
    return { host, path, headers: { 'x-tenant': 'a', accept: '*/*' } };
  });
  const port = compiled.ports.get(80);
  return (iterations) => {
    let found = 0;
    const started = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) {
      const request = requests[i & 1023]!;
      const host = hostOf(request.host);
      const listener = resolveListener(port, host);
      if (listener !== undefined && resolveRoute(listener, host, 'GET', request.path, '', request.headers) !== undefined) found++;
    }
    const ns = Number(process.hrtime.bigint() - started) / iterations;
    // 1/5 of the requests are misses; every other one must find its route.
    if (found < iterations * 0.79) throw new Error(`${count} routes: only ${found} of ${iterations} lookups matched`);
    return ns;
  };
}

/**
 * Median ns per lookup at 10 and at 10,000 routes. Both tables are built and warmed up before
 * either is timed, and the rounds alternate, so neither size runs on code the JIT shaped for
 * the other or on a machine in a different state.
 */
export async function lookupMeasurement(): Promise<{ ns10: number; ns10k: number }> {
  const small = await lookupLoop(10);
  const large = await lookupLoop(10_000);
  for (let i = 0; i < 3; i++) {
    small(200_000);
    large(200_000);
  }
  const smallNs: number[] = [];
  const largeNs: number[] = [];
  for (let round = 0; round < 7; round++) {
    smallNs.push(small(1_000_000));
    largeNs.push(large(1_000_000));
  }
  const median = (values: number[]): number => values.sort((a, b) => a - b)[values.length >> 1]!;
  return { ns10: median(smallNs), ns10k: median(largeNs) };
}

export async function swapMeasurement(): Promise<{ swapMs: number; maxBlockMs: number }> {
  const [port] = await freePorts(1);
  const registry = new UpstreamRegistry();
  const metrics = new DataplaneMetrics({ processMetrics: false });
  const listeners = new ListenerSet({ request: (_req, res) => res.end(), upgrade: (_req, socket) => socket.destroy(), tunnels: () => false }, { host: '127.0.0.1', drainTimeoutMs: 1_000 });
  const runtime = new ConfigRuntime({ upstreams: registry, metrics, listeners, log: pino({ level: 'silent' }) });
  const apply = async (version: number): Promise<void> => {
    // What the subscriber does with the string it read from Redis.
    const raw = encodeEnvelope({ epoch: 1, version }, serializeConfig(manyRoutes(1_000, port!)));
    const result = decodeEnvelope(raw);
    if (!result.ok) throw new Error(result.reason);
    await runtime.apply(result.value);
  };
  await apply(1);
  const samples: number[] = [];
  const blocks: number[] = [];
  for (let version = 2; version <= 21; version++) {
    // A chain of setImmediate callbacks runs between every two slices of work, so the longest
    // gap between two of them is the longest time the event loop was blocked. The gap is taken
    // in main-thread CPU time, so time the OS gave to other processes does not count as blocking.
    let last = mainThreadCpuMs();
    let longest = 0;
    let probing = true;
    const probe = (): void => {
      const now = mainThreadCpuMs();
      longest = Math.max(longest, now - last);
      last = now;
      if (probing) setImmediate(probe);
    };
    setImmediate(probe);
    const started = performance.now();
    await apply(version);
    samples.push(performance.now() - started);
    probing = false;
    probe();
    blocks.push(longest);
  }
  await listeners.closeAll();
  await registry.closeAll();
  samples.sort((a, b) => a - b);
  return { swapMs: samples[Math.floor(samples.length / 2)]!, maxBlockMs: Math.max(...blocks) };
}

export async function run(): Promise<void> {
  if (process.argv.includes('--lookup-only')) {
    // `npm run bench -- dataplane --lookup-only`: the in-process lookup measurement alone (no
    // tools needed, nothing written), for iterating on the router.
    const { ns10, ns10k } = await lookupMeasurement();
    printTable('route lookup', [
      { metric: 'lookup ns, 10 routes', value: round(ns10), target: '', met: '' },
      { metric: 'lookup ns, 10,000 routes', value: round(ns10k), target: '<= 1.2 x 10 routes', met: ns10k / ns10 <= 1.2 ? 'yes' : 'no' },
      { metric: '10,000 / 10', value: round(ns10k / ns10), target: '', met: '' },
    ]);
    return;
  }
  for (const tool of ['taskset', 'wrk', 'nginx', 'redis-server']) requireTool(tool);
  const dir = mkdtempSync(join(tmpdir(), 'weir-bench-'));
  const children: ChildProcess[] = [];
  const redisServer = await startRedis();
  try {
    const [backendPort, weirPort, adminPort, nginxPort] = await freePorts(4);
    const echo = pinned(1, process.execPath, ['tests/harness/echo/main.ts'], { ...process.env, HTTP_PORT: String(backendPort), H2C_PORT: '0', ECHO_HOST: '127.0.0.1', ECHO_QUIET: '1', POD_NAME: 'bench' });
    children.push(echo);
    await waitForHttp(`http://127.0.0.1:${backendPort}/health`);

    console.log(`load: wrk -t1 -c${CONNECTIONS} ${DURATION_S}s per target (after a 2 s warm-up); proxies on CPU 0, echo + wrk on CPU 1`);
    const direct = await measure('direct (echo CPU)', `http://127.0.0.1:${backendPort}/bench`, echo.pid);

    const redis = new Redis(redisServer.url);
    await publishOneRoute(redis, weirPort!, backendPort!);
    redis.disconnect();
    const weir = pinned(0, process.execPath, ['dataplane/main.ts'], {
      ...process.env,
      REDIS_URL: redisServer.url,
      WEIR_GATEWAY: 'bench/gw',
      POD_NAME: 'bench',
      WEIR_LISTEN_HOST: '127.0.0.1',
      WEIR_ADMIN_HOST: '127.0.0.1',
      WEIR_ADMIN_PORT: String(adminPort),
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
    });
    children.push(weir);
    await waitForHttp(`http://127.0.0.1:${adminPort}/readyz`);
    const viaWeir = await measure('weir', `http://127.0.0.1:${weirPort}/bench`, weir.pid);
    await stop(weir);

    writeFileSync(join(dir, 'nginx.conf'), nginxProxyConfig(dir, nginxPort!, backendPort!));
    const nginx = pinned(0, 'nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir]);
    children.push(nginx);
    await waitForHttp(`http://127.0.0.1:${nginxPort}/health`);
    const viaNginx = await measure('nginx', `http://127.0.0.1:${nginxPort}/bench`, nginx.pid);
    await stop(nginx);
    await stop(echo);

    const { ns10: lookup10, ns10k: lookup10k } = await lookupMeasurement();
    const swap = await swapMeasurement();

    const result = {
      direct_rps: Math.round(direct.rps),
      weir_rps: Math.round(viaWeir.rps),
      nginx_rps: Math.round(viaNginx.rps),
      weir_over_nginx: round(viaWeir.rps / viaNginx.rps),
      weir_over_direct: round(viaWeir.rps / direct.rps),
      weir_p99_ms: round(viaWeir.p99Ms),
      nginx_p99_ms: round(viaNginx.p99Ms),
      direct_p99_ms: round(direct.p99Ms),
      echo_cpu_us_per_request: round(direct.cpuUsPerRequest ?? NaN),
      weir_cpu_us_per_request: round(viaWeir.cpuUsPerRequest ?? NaN),
      nginx_cpu_us_per_request: round(viaNginx.cpuUsPerRequest ?? NaN),
      load_average_1m: round(loadavg()[0] ?? NaN),
      lookup_ns_10_routes: round(lookup10),
      lookup_ns_10000_routes: round(lookup10k),
      lookup_10000_over_10: round(lookup10k / lookup10),
      swap_ms_1000_routes: round(swap.swapMs),
      swap_max_event_loop_block_ms: round(swap.maxBlockMs),
      connections: CONNECTIONS,
      duration_s: DURATION_S,
    };
    printTable('dataplane throughput (same route, same echo backend, same wrk)', [
      { target: 'direct', 'req/s': result.direct_rps, 'p99 ms': result.direct_p99_ms, 'vs direct': 1, 'proxy CPU µs/req': '-' },
      { target: 'weir', 'req/s': result.weir_rps, 'p99 ms': result.weir_p99_ms, 'vs direct': result.weir_over_direct, 'proxy CPU µs/req': result.weir_cpu_us_per_request },
      { target: 'nginx (1 worker)', 'req/s': result.nginx_rps, 'p99 ms': result.nginx_p99_ms, 'vs direct': round(viaNginx.rps / direct.rps), 'proxy CPU µs/req': result.nginx_cpu_us_per_request },
    ]);
    printTable('targets', [
      { metric: 'weir / nginx', value: result.weir_over_nginx, target: '>= 0.6 (stretch 1.0)', met: result.weir_over_nginx >= 0.6 ? 'yes' : 'no' },
      { metric: 'weir / direct', value: result.weir_over_direct, target: '>= 0.45', met: result.weir_over_direct >= 0.45 ? 'yes' : 'no' },
      { metric: 'lookup ns, 10 routes', value: result.lookup_ns_10_routes, target: '', met: '' },
      { metric: 'lookup ns, 10,000 routes', value: result.lookup_ns_10000_routes, target: '<= 1.2 x 10 routes', met: result.lookup_10000_over_10 <= 1.2 ? 'yes' : 'no' },
      { metric: 'swap ms, 1,000 routes', value: result.swap_ms_1000_routes, target: '< 50', met: result.swap_ms_1000_routes < 50 ? 'yes' : 'no' },
      { metric: 'longest event-loop block (CPU ms)', value: result.swap_max_event_loop_block_ms, target: '<= 20', met: result.swap_max_event_loop_block_ms <= 20 ? 'yes' : 'no' },
    ]);
    console.log(`\nload average during the run: ${result.load_average_1m} (other work on this machine skews throughput; CPU µs/request is less sensitive to it)`);
    console.log(`wrote ${writeResult('dataplane', result)}`);
  } finally {
    await Promise.all(children.map((child) => stop(child)));
    await redisServer.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function mainThreadCpuMs(): number {
  const usage = process.threadCpuUsage();
  return (usage.user + usage.system) / 1000;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

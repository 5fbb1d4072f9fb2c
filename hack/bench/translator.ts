/**
 * Translator benchmark: 1,000 and 10,000 HTTPRoutes over 100 namespaces and 4 Gateways
 * (each with an HTTP and an HTTPS listener), every route with 3 rules and a backend Service.
 * Reports the median of several runs, heap growth at 10k, and ms/route at both sizes to show
 * growth is linear. Writes `.bench/translator.json`.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { join } from 'node:path';
import { emptySnapshot, type Snapshot } from '../../operator/store/index.ts';
import { translate } from '../../operator/translator/index.ts';
import { parseAllDocuments } from 'yaml';
import { printTable, REPO_ROOT, writeResult } from './report.ts';

const NAMESPACES = 100;
const GATEWAYS = 4;
const RUNS = 7;
/**
 * Runs before timing. The operator translates on every change, so the steady state is what
 * counts; V8 needs a few runs to optimize the hot paths (one run left the 1k median mid-JIT).
 */
const WARMUP_RUNS = 5;

function certificateSecret(): unknown {
  const certs = parseAllDocuments(readFileSync(join(REPO_ROOT, 'tests/golden/_base/certs.yaml'), 'utf8')).map((doc) => doc.toJS() as unknown);
  const secret = certs[0] as { stringData: unknown };
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cert', namespace: 'infra' }, type: 'kubernetes.io/tls', stringData: secret.stringData };
}

/** Routes spread round-robin over namespaces and Gateways. */
export function syntheticSnapshot(routeCount: number): Snapshot {
  const namespaces = Array.from({ length: NAMESPACES }, (_, i) => `ns-${String(i).padStart(3, '0')}`);
  const gateways = Array.from({ length: GATEWAYS }, (_, g) => ({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway' as const,
    metadata: { name: `gw-${g}`, namespace: 'infra', generation: 1 },
    spec: {
      gatewayClassName: 'weir',
      listeners: [
        { name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' as const } } },
        { name: 'https', port: 443, protocol: 'HTTPS', hostname: `*.gw${g}.example.com`, tls: { certificateRefs: [{ name: 'cert' }] }, allowedRoutes: { namespaces: { from: 'All' as const } } },
      ],
    },
  }));
  const services = namespaces.flatMap((namespace) =>
    Array.from({ length: 10 }, (_, s) => ({
      apiVersion: 'v1',
      kind: 'Service' as const,
      metadata: { name: `svc-${s}`, namespace },
      spec: { ports: [{ name: 'http', port: 8080, targetPort: 3000 }] },
    })),
  );
  const slices = services.map((service, i) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice' as const,
    metadata: { name: `${service.metadata.name}-x`, namespace: service.metadata.namespace, labels: { 'kubernetes.io/service-name': service.metadata.name } },
    addressType: 'IPv4' as const,
    endpoints: [{ addresses: [`198.18.${Math.floor(i / 250)}.${(i % 250) + 1}`] }, { addresses: [`198.19.${Math.floor(i / 250)}.${(i % 250) + 1}`] }],
    ports: [{ name: 'http', port: 3000 }],
  }));
  const routes = Array.from({ length: routeCount }, (_, r) => {
    const namespace = namespaces[r % NAMESPACES] ?? 'ns-000';
    const gateway = r % GATEWAYS;
    return {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute' as const,
      metadata: { name: `route-${r}`, namespace, generation: 1, creationTimestamp: `2024-01-01T00:00:${String(r % 60).padStart(2, '0')}Z` },
      spec: {
        parentRefs: [{ name: `gw-${gateway}`, namespace: 'infra' }],
        hostnames: [`r${r}.gw${gateway}.example.com`],
        rules: [
          { matches: [{ path: { type: 'PathPrefix' as const, value: `/api/${r}` } }], backendRefs: [{ name: `svc-${r % 10}`, port: 8080 }] },
          {
            matches: [{ path: { type: 'Exact' as const, value: `/exact/${r}` }, headers: [{ name: 'x-version', value: 'v2' }] }],
            filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-route', value: String(r) }] } }],
            backendRefs: [{ name: `svc-${(r + 1) % 10}`, port: 8080, weight: 80 }, { name: `svc-${(r + 2) % 10}`, port: 8080, weight: 20 }],
          },
          { matches: [{ path: { type: 'PathPrefix' as const, value: '/' }, method: 'GET' as const }], timeouts: { request: '5s' }, backendRefs: [{ name: `svc-${r % 10}`, port: 8080 }] },
        ],
      },
    };
  });
  return {
    ...emptySnapshot(),
    gatewayClasses: [{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'weir', generation: 1 }, spec: { controllerName: 'weir.dev/gateway-controller' } }],
    gateways,
    httpRoutes: routes,
    services,
    endpointSlices: slices,
    secrets: [certificateSecret() as Snapshot['secrets'][number]],
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** Median wall-clock and CPU milliseconds (CPU time is less disturbed by other load on the machine). */
function timeTranslate(snapshot: Snapshot): { wallMs: number; cpuMs: number } {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < WARMUP_RUNS; i++) translate(snapshot); // JIT and module caches
  for (let i = 0; i < RUNS; i++) {
    const cpuStart = process.cpuUsage();
    const start = process.hrtime.bigint();
    translate(snapshot);
    wall.push(Number(process.hrtime.bigint() - start) / 1e6);
    const used = process.cpuUsage(cpuStart);
    cpu.push((used.user + used.system) / 1000);
  }
  return { wallMs: median(wall), cpuMs: median(cpu) };
}

/** A handle on V8's collector without needing `--expose-gc` on the command line. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  const gc: unknown = runInNewContext('gc');
  return typeof gc === 'function' ? (gc as () => void) : () => undefined;
}

/** Heap retained by one translation result (configs + statuses), measured between full GCs. */
function retainedHeapMb(snapshot: Snapshot): number {
  const gc = collector();
  gc();
  const before = process.memoryUsage().heapUsed;
  const result = translate(snapshot);
  gc();
  const after = process.memoryUsage().heapUsed;
  if (result.configs.length === 0) throw new Error('benchmark produced no configs');
  return (after - before) / (1024 * 1024);
}

export async function run(): Promise<void> {
  const small = syntheticSnapshot(1000);
  const large = syntheticSnapshot(10000);
  const time1000 = timeTranslate(small);
  const time10000 = timeTranslate(large);
  const routes1000 = time1000.wallMs;
  const routes10000 = time10000.wallMs;
  const heap10000 = retainedHeapMb(large);
  const perRoute1000 = routes1000 / 1000;
  const perRoute10000 = routes10000 / 10000;
  const result = {
    routes_1000_ms: Number(routes1000.toFixed(2)),
    routes_10000_ms: Number(routes10000.toFixed(2)),
    heap_mb_10000: Number(heap10000.toFixed(1)),
    ms_per_route_1000: Number(perRoute1000.toFixed(4)),
    ms_per_route_10000: Number(perRoute10000.toFixed(4)),
    growth_ratio_10k_vs_1k: Number((perRoute10000 / perRoute1000).toFixed(2)),
    cpu_ms_1000: Number(time1000.cpuMs.toFixed(2)),
    cpu_ms_10000: Number(time10000.cpuMs.toFixed(2)),
    load_average_1m: Number((loadavg()[0] ?? 0).toFixed(2)),
    namespaces: NAMESPACES,
    gateways: GATEWAYS,
    runs: RUNS,
    warmup_runs: WARMUP_RUNS,
    node: process.version,
  };
  printTable(`translate(): median of ${RUNS} runs after ${WARMUP_RUNS} warm-up runs (target: ≤100 ms @1k, ≤1000 ms @10k, linear)`, [
    { routes: 1000, wall_ms: routes1000, cpu_ms: time1000.cpuMs, 'ms/route': perRoute1000, target_ms: 100, ok: routes1000 <= 100 ? 'yes' : 'NO' },
    { routes: 10000, wall_ms: routes10000, cpu_ms: time10000.cpuMs, 'ms/route': perRoute10000, target_ms: 1000, ok: routes10000 <= 1000 ? 'yes' : 'NO' },
  ]);
  console.log(`ms/route ratio 10k vs 1k: ${result.growth_ratio_10k_vs_1k} (1.0 = perfectly linear); heap retained by one 10k result: ${result.heap_mb_10000} MB; load average ${result.load_average_1m}`);
  console.log(`wrote ${writeResult('translator', result)}`);
  await Promise.resolve();
}

/**
 * Turns a validated DataplaneConfig into the structures the request path reads: per port a
 * listener table, per listener hostname buckets of path tables, and per rule a compiled action
 * with its backend picker, filters and metric handles. Everything a request needs is resolved
 * here, so serving does no parsing, regex compilation or lookups that grow with the config.
 *
 * Compilation yields to the event loop every few milliseconds so a large config never stalls
 * traffic on the current one.
 */
import { createHash } from 'node:crypto';
import { DEFAULT_PATH_POLICY, type DataplaneConfig, type HttpListener, type HttpsListener, type PathPolicy, type PublishedConfig, type RuleAction, type Cluster } from '../api-types/dataplane-config.ts';
import { resolveLimits, type ResolvedLimits } from '../api-types/limits.ts';
import { WeightedPicker } from './balancer.ts';
import { compileBackendStages, compileRuleStages, type BackendStages, type RuleStages } from './filters/index.ts';
import { HostTable } from './hostnames.ts';
import { PathTable } from './router.ts';
import { SessionTable } from './session.ts';
import { DEFAULT_REQUEST_TRACING, type RequestTracingPolicy } from './telemetry/tracing.ts';
import type { DataplaneMetrics, RequestStats } from './telemetry/metrics.ts';
import { backendTlsOptions } from './tls/backend.ts';
import { PortCertificates, SecureContextCache, type TlsListenerSpec } from './tls/certificates.ts';
import { XfccPolicy } from './tls/xfcc.ts';
import { EndpointSet, type EndpointCaps, type Upstream, type UpstreamRegistry, type UpstreamTls, type WireProtocol } from './upstreams.ts';

export interface CompiledCluster {
  readonly id: string;
  readonly protocol: Cluster['protocol'];
  /** False for raw TCP clusters, which only TLS/TCP listeners (stream/) can use. */
  readonly supported: boolean;
  readonly endpoints: EndpointSet;
  /** HTTP/1.1 connections to the same endpoints, for WebSocket upgrades; undefined when upgrades are not possible. */
  readonly upgradeEndpoints: EndpointSet | undefined;
}

export interface CompiledBackend {
  /** Undefined when the backendRef is invalid: its share of requests is answered 500. */
  readonly cluster: CompiledCluster | undefined;
  /** The filters' stages for requests sent to this backend (rule and backendRef settings combined). */
  readonly stages: BackendStages;
  readonly stats: RequestStats;
}

export interface CompiledRetry {
  readonly codes: ReadonlySet<number>;
  readonly attempts: number;
  readonly backoffMs: number;
  /** Retry when connecting to every endpoint failed (after trying each once). */
  readonly connectionErrors: boolean;
}

export interface CompiledAction {
  readonly id: string;
  readonly route: string;
  readonly directStatus: number | undefined;
  /** The filters' rule-level stages: local answers (CORS preflight, redirect), copies (mirrors). */
  readonly stages: RuleStages;
  readonly backends: WeightedPicker<CompiledBackend>;
  readonly requestTimeoutMs: number | undefined;
  readonly backendTimeoutMs: number | undefined;
  readonly retry: CompiledRetry | undefined;
  /** Session persistence: the endpoints session tokens can name. */
  readonly session: SessionTable<CompiledBackend> | undefined;
  /** Metrics for answers the dataplane gives itself (redirects, CORS preflights, 500s). */
  readonly localStats: RequestStats;
}

/** What a path-table lookup yields: the action plus what the matched (rule, match) contributes. */
export interface RouteTarget {
  readonly action: CompiledAction;
  /** The match's PathPrefix value, for ReplacePrefixMatch; undefined for other path types. */
  readonly prefix: string | undefined;
  /** A GRPCRoute rule: local errors are answered gRPC-style. */
  readonly grpc: boolean;
}

export interface CompiledListener {
  readonly id: string;
  readonly port: number;
  readonly scheme: 'http' | 'https';
  readonly hosts: HostTable<PathTable<RouteTarget>>;
  /** HTTPS: the listener's TLS identity (`ListenerTls.key`), which a connection must have been accepted with. */
  readonly tlsKey: string | undefined;
}

export interface CompiledPort {
  readonly port: number;
  readonly listeners: HostTable<CompiledListener>;
  /** Certificates (by SNI) and client validation of an HTTPS port; undefined for plain HTTP. */
  readonly tls: PortCertificates | undefined;
}

export interface CompiledConfig {
  readonly version: number;
  readonly digest: string;
  readonly gateway: DataplaneConfig['gateway'];
  readonly ports: ReadonlyMap<number, CompiledPort>;
  /** Whether the hop in front is trusted to set X-Forwarded-* / X-Request-Id. */
  readonly trustForwarded: boolean;
  /** Every upstream this config can send to; the registry closes the others. */
  readonly upstreams: ReadonlySet<Upstream>;
  /** x-forwarded-client-cert handling (DataplaneConfig.xfcc). */
  readonly xfcc: XfccPolicy;
  readonly pathPolicy: PathPolicy;
  /** The Gateway's request-tracing settings. */
  readonly tracing: RequestTracingPolicy;
  readonly notFoundStats: RequestStats;
  /** The Gateway's limits, every unset one at its default. */
  readonly limits: ResolvedLimits;
}

export interface CompileContext {
  readonly upstreams: UpstreamRegistry;
  readonly metrics: DataplaneMetrics;
  /** Longest stretch of synchronous work before yielding to the event loop. */
  readonly sliceMs?: number;
  /** Secure contexts shared across swaps (and with the stream ports); a fresh cache when absent. */
  readonly secureContexts?: SecureContextCache;
}

class Slicer {
  private started = performance.now();
  private readonly sliceMs: number;
  constructor(sliceMs: number) {
    this.sliceMs = sliceMs;
  }
  async maybeYield(): Promise<void> {
    if (performance.now() - this.started < this.sliceMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.started = performance.now();
  }
}

/** HTTP/2 for gRPC clusters (h2c in the clear, ALPN h2 over TLS), HTTP/1.1 otherwise. */
function wireProtocol(cluster: Cluster): WireProtocol {
  const http2 = cluster.protocol === 'h2c' || cluster.protocol === 'h2';
  if (cluster.tls === undefined) return http2 ? 'h2c' : 'http1';
  return http2 ? 'h2' : 'https1';
}

/** Connect options for a TLS cluster, keyed by everything they are made of. */
function upstreamTls(cluster: Cluster, config: DataplaneConfig): UpstreamTls | undefined {
  const tls = cluster.tls;
  if (tls === undefined) return undefined;
  const ca = tls.caBundle === undefined ? 'system' : config.caBundles[tls.caBundle] ?? '';
  const client = tls.clientCertificate === undefined ? undefined : config.certificates[tls.clientCertificate];
  const key = createHash('sha256')
    .update(JSON.stringify([tls.hostname, tls.subjectAltNames, ca, client?.certPem ?? '', client?.keyPem ?? '']))
    .digest('hex')
    .slice(0, 32);
  return { key, options: backendTlsOptions(tls, config) };
}

export async function compileConfig(published: PublishedConfig, context: CompileContext): Promise<CompiledConfig> {
  const slicer = new Slicer(context.sliceMs ?? 5);
  const { config } = published;
  const live = new Set<Upstream>();
  const limits = resolveLimits(config.limits);
  const caps: EndpointCaps = { maxConnections: limits.backendMaxConnections, maxPending: limits.backendMaxPendingRequests };

  const clusters = new Map<string, CompiledCluster>();
  for (const cluster of config.clusters) {
    clusters.set(cluster.id, compileCluster(cluster, upstreamTls(cluster, config), caps, context.upstreams, live));
    await slicer.maybeYield();
  }

  const actions: CompiledAction[] = [];
  for (const action of config.actions) {
    actions.push(compileAction(action, clusters, context.metrics));
    await slicer.maybeYield();
  }

  // HTTP and HTTPS listeners by port, in the config's order (TLS and TCP ports are stream/'s).
  const byPort = new Map<number, (HttpListener | HttpsListener)[]>();
  for (const listener of config.listeners) {
    if (listener.protocol !== 'HTTP' && listener.protocol !== 'HTTPS') continue;
    // An HTTPS listener without a usable certificate cannot complete a handshake; serve the others.
    if (listener.protocol === 'HTTPS' && listener.certificates.length === 0) continue;
    const list = byPort.get(listener.port);
    if (list === undefined) byPort.set(listener.port, [listener]);
    else list.push(listener);
  }
  const secureContexts = context.secureContexts ?? new SecureContextCache();
  const ports = new Map<number, CompiledPort>();
  for (const [number, listeners] of byPort) {
    const tls = portCertificates(number, listeners, config, secureContexts);
    const port: CompiledPort = { port: number, listeners: new HostTable(), tls };
    for (const listener of listeners) {
      const compiled = await compileListener(listener, tls?.listeners.find((candidate) => candidate.id === listener.id)?.key, actions, slicer);
      port.listeners.entry(listener.hostname, () => compiled);
    }
    ports.set(number, port);
  }

  return {
    version: published.version,
    digest: published.digest,
    gateway: config.gateway,
    ports,
    trustForwarded: config.trustedProxyHops > 0,
    upstreams: live,
    xfcc: new XfccPolicy(config.xfcc),
    pathPolicy: config.pathPolicy ?? DEFAULT_PATH_POLICY,
    tracing: config.tracing === undefined
      ? DEFAULT_REQUEST_TRACING
      : { samplingRatio: config.tracing.samplingPercent === undefined ? undefined : config.tracing.samplingPercent / 100, incomingContext: config.tracing.incomingContext },
    notFoundStats: context.metrics.stats('', '', ''),
    limits,
  };
}

/** The SNI table of an HTTPS port; a port must not mix HTTP and HTTPS listeners. */
function portCertificates(port: number, listeners: readonly (HttpListener | HttpsListener)[], config: DataplaneConfig, cache: SecureContextCache): PortCertificates | undefined {
  const specs: TlsListenerSpec[] = [];
  for (const listener of listeners) if (listener.protocol === 'HTTPS') specs.push(listener);
  if (specs.length === 0) return undefined;
  if (specs.length !== listeners.length) throw new Error(`port ${port} mixes HTTP and HTTPS listeners`);
  return new PortCertificates(port, specs, config, cache);
}

function compileCluster(cluster: Cluster, tls: UpstreamTls | undefined, caps: EndpointCaps, registry: UpstreamRegistry, live: Set<Upstream>): CompiledCluster {
  const supported = cluster.protocol !== 'tcp';
  const endpointSet = (protocol: WireProtocol): EndpointSet => {
    if (!supported) return new EndpointSet([], []);
    const ready: Upstream[] = [];
    const notReady: Upstream[] = [];
    for (const endpoint of cluster.endpoints) {
      const upstream = registry.acquire(protocol, endpoint.address, endpoint.port, caps, tls);
      live.add(upstream);
      (endpoint.ready ? ready : notReady).push(upstream);
    }
    return new EndpointSet(ready, notReady);
  };
  return {
    id: cluster.id,
    protocol: cluster.protocol,
    supported,
    endpoints: endpointSet(wireProtocol(cluster)),
    upgradeEndpoints: cluster.protocol === 'http1' || cluster.protocol === 'ws' ? endpointSet(tls === undefined ? 'http1' : 'https1') : undefined,
  };
}

function compileAction(action: RuleAction, clusters: ReadonlyMap<string, CompiledCluster>, metrics: DataplaneMetrics): CompiledAction {
  const route = `${action.route.kind}/${action.route.namespace}/${action.route.name}`;
  const backends = action.backends.map((backend) => ({
    weight: backend.weight,
    item: {
      cluster: backend.clusterId === undefined ? undefined : clusters.get(backend.clusterId),
      stages: compileBackendStages(action, backend),
      stats: metrics.stats(route, action.id, backend.clusterId ?? 'invalid'),
    },
  }));
  return {
    id: action.id,
    route,
    directStatus: action.directStatus,
    stages: compileRuleStages(action, { cluster: (id) => clusters.get(id) }),
    backends: new WeightedPicker(backends),
    session: action.sessionPersistence === undefined ? undefined : new SessionTable(action.sessionPersistence, backends),
    requestTimeoutMs: positive(action.timeouts.requestMs),
    backendTimeoutMs: positive(action.timeouts.backendRequestMs),
    retry:
      action.retry === undefined || action.retry.attempts === 0
        ? undefined
        : {
            codes: new Set(action.retry.codes),
            attempts: action.retry.attempts,
            backoffMs: action.retry.backoffMs,
            connectionErrors: action.retry.connectionErrors ?? false,
          },
    localStats: metrics.stats(route, action.id, ''),
  };
}

/** Gateway API uses 0 for "no timeout". */
function positive(value: number | undefined): number | undefined {
  return value === undefined || value === 0 ? undefined : value;
}

async function compileListener(listener: HttpListener | HttpsListener, tlsKey: string | undefined, actions: readonly CompiledAction[], slicer: Slicer): Promise<CompiledListener> {
  const hosts = new HostTable<PathTable<RouteTarget>>();
  const targets = new Map<number, RouteTarget>();
  for (let order = 0; order < listener.rules.length; order++) {
    const rule = listener.rules[order];
    if (rule === undefined) continue;
    const action = actions[rule.action];
    if (action === undefined) throw new Error(`${listener.id}: rule ${order} refers to missing action ${rule.action}`);
    const prefix = rule.match.path.type === 'PathPrefix' ? rule.match.path.value : undefined;
    // Share the target object between rules with the same action and prefix (the common case).
    const key = prefix === undefined ? -1 - rule.action : rule.action;
    let target = targets.get(key);
    if (target === undefined || target.prefix !== prefix || target.grpc !== rule.grpc) {
      target = { action, prefix, grpc: rule.grpc };
      targets.set(key, target);
    }
    const buckets = rule.hostnames.length === 0 ? [undefined] : rule.hostnames;
    for (const hostname of buckets) hosts.entry(hostname, () => new PathTable()).add(rule.match, order, target);
    if ((order & 63) === 63) await slicer.maybeYield();
  }
  return { id: listener.id, port: listener.port, scheme: listener.protocol === 'HTTPS' ? 'https' : 'http', hosts, tlsKey };
}

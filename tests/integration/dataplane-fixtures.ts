/**
 * Shared pieces of the dataplane integration tests: config builders, publishing to Redis the way
 * the operator does (SET + PUBLISH in one MULTI/EXEC), an in-process dataplane with teardown,
 * and an HTTP client that can set Host.
 */
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { Agent, request } from 'undici';
import {
  DATAPLANE_CONFIG_SCHEMA,
  type Cluster,
  type DataplaneConfig,
  type HttpRule,
  type PublishedConfig,
  type RuleAction,
} from '../../api-types/dataplane-config.ts';
import type { Limits } from '../../api-types/limits.ts';
import { compareRevisions, encodeNotification, serializeConfig } from '../../api-types/config-codec.ts';
import { CONFIG_CHANNEL, configKey } from '../../api-types/redis-contract.ts';
import type { GatewayRef } from '../../api-types/gateway-ref.ts';
import { Dataplane, type DataplaneOptions } from '../../dataplane/dataplane.ts';
import { poll, uniqueName, type TestContext } from '../harness/index.ts';
import type { EchoServer } from '../harness/echo/server.ts';

export function newGateway(): GatewayRef {
  return { namespace: 'test', name: uniqueName('gw') };
}

export function echoCluster(id: string, echoes: readonly EchoServer[], protocol: Cluster['protocol'] = 'http1'): Cluster {
  return {
    id,
    backend: { kind: 'Service', namespace: 'test', name: id },
    protocol,
    endpoints: echoes.map((echo) => ({ address: echo.host, port: protocol === 'h2c' ? echo.h2cPort : echo.httpPort, ready: true })),
  };
}

/** A RuleAction with defaults: proxy to `clusterId` (weight 1), no filters. */
export function action(id: string, clusterId: string | undefined, extra: Partial<RuleAction> = {}): RuleAction {
  return {
    id,
    route: { kind: 'HTTPRoute', namespace: 'test', name: id },
    mirrors: [],
    backends: clusterId === undefined ? [] : [{ weight: 1, clusterId }],
    timeouts: {},
    ...extra,
  };
}

/** An HttpRule with defaults: PathPrefix `/`, any host/method. */
export function rule(actionIndex: number, extra: Partial<HttpRule> & { path?: HttpRule['match']['path']; method?: string; headers?: HttpRule['match']['headers']; queryParams?: HttpRule['match']['queryParams'] } = {}): HttpRule {
  const { path, method, headers, queryParams, ...rest } = extra;
  return {
    hostnames: [],
    match: {
      path: path ?? { type: 'PathPrefix', value: '/' },
      ...(method === undefined ? {} : { method }),
      headers: headers ?? [],
      queryParams: queryParams ?? [],
    },
    action: actionIndex,
    grpc: false,
    ...rest,
  };
}

export interface ConfigParts {
  listeners: DataplaneConfig['listeners'];
  actions: RuleAction[];
  clusters: Cluster[];
  trustedProxyHops?: number;
  limits?: Limits;
}

export function dataplaneConfig(gateway: GatewayRef, parts: ConfigParts): DataplaneConfig {
  return {
    schema: DATAPLANE_CONFIG_SCHEMA,
    gateway,
    listeners: parts.listeners,
    actions: parts.actions,
    clusters: parts.clusters,
    certificates: [],
    caBundles: [],
    xfcc: { mode: 'Sanitize', subject: false, cert: false, chain: false, uri: false, dns: false },
    trustedProxyHops: parts.trustedProxyHops ?? 0,
    ...(parts.limits === undefined ? {} : { limits: parts.limits }),
  };
}

/** An envelope of epoch 1, as a publisher would write it. */
export function published(config: DataplaneConfig, version: number): PublishedConfig {
  return { epoch: 1, version, digest: serializeConfig(config).digest, config };
}

/** Writes the snapshot and notifies, as the operator's publisher does. */
export async function publish(redis: Redis, gateway: GatewayRef, value: PublishedConfig | string, version?: number): Promise<void> {
  const body = typeof value === 'string' ? value : JSON.stringify(value);
  const notifyVersion = typeof value === 'string' ? version ?? 0 : value.version;
  const digest = typeof value === 'string' ? 'sha256:unknown' : value.digest;
  await redis
    .multi()
    .set(configKey(gateway), body)
    .publish(CONFIG_CHANNEL, encodeNotification({ gateway: `${gateway.namespace}/${gateway.name}`, epoch: 1, version: notifyVersion, digest }))
    .exec();
}

export async function startDataplane(t: TestContext, redisUrl: string, gateway: GatewayRef, options: Partial<DataplaneOptions> = {}): Promise<Dataplane> {
  const dataplane = await Dataplane.start({
    redisUrl,
    gateway,
    podName: uniqueName('pod'),
    log: pino({ level: process.env.WEIR_TEST_LOG_LEVEL ?? 'silent' }),
    listenHost: '127.0.0.1',
    adminHost: '127.0.0.1',
    adminPort: 0,
    drainTimeoutMs: 5_000,
    subscriber: { maxBackoffMs: 200, ackIntervalMs: 500 },
    ...options,
  });
  t.teardown(() => dataplane.stop());
  return dataplane;
}

/** Waits until the dataplane serves `version` of epoch 1 (what `published` makes) or newer. */
export async function waitForVersion(dataplane: Dataplane, version: number, timeoutMs = 10_000): Promise<void> {
  await poll(() => (compareRevisions(dataplane.subscriber.applied, { epoch: 1, version }) >= 0 ? true : undefined), { what: `dataplane to apply version ${version}`, timeoutMs, intervalMs: 10 });
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** Parsed echo JSON, when the body is one. */
  echo: EchoAnswer | undefined;
}

export interface EchoAnswer {
  path: string;
  host: string;
  method: string;
  proto: string;
  headers: Record<string, string[]>;
  namespace: string;
  service: string;
  pod: string;
}

/** An HTTP client (own connection pool) closed at the test's end. */
export function httpClient(t: TestContext): (port: number, path: string, options?: { method?: string; host?: string; headers?: Record<string, string>; body?: string }) => Promise<Answer> {
  const agent = new Agent({ keepAliveTimeout: 1_000 });
  t.teardown(() => agent.close());
  return async (port, path, options = {}) => {
    const response = await request(`http://127.0.0.1:${port}${path}`, {
      dispatcher: agent,
      method: (options.method ?? 'GET') as 'GET',
      headers: { host: options.host ?? 'example.com', ...options.headers },
      body: options.body ?? null,
    });
    const text = await response.body.text();
    let echo: EchoAnswer | undefined;
    try {
      echo = (response.headers['content-type'] === 'application/json' ? JSON.parse(text) : undefined) as EchoAnswer | undefined;
    } catch {
      echo = undefined;
    }
    return { status: response.statusCode, headers: response.headers, text, echo };
  };
}

/**
 * The DataplaneConfig contract: everything one dataplane pod needs to serve one Gateway.
 *
 * The operator's translator produces a `DataplaneConfig` (pure, deterministic); the publisher
 * wraps it in a `PublishedConfig` envelope (epoch, version, digest; encoded by api-types/config-codec.ts) and writes it to Redis; the
 * dataplane validates the envelope with `validatePublishedConfig` before compiling it.
 * One TypeBox definition gives both the static type and the runtime check.
 *
 * Conventions:
 * - Durations are integer milliseconds.
 * - Hostnames are lower-case; a wildcard is only a leading `*.` label.
 * - Arrays that have an order carry it on purpose (rules are in precedence order); all other
 *   arrays are sorted by the translator so the same input yields byte-identical output.
 * - Cross references are by id into the tables at the top level (`clusters`, `certificates`,
 *   `caBundles`, `actions`), so shared material appears once.
 */
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Limits } from './limits.ts';

/** Bumped on any incompatible change; a dataplane rejects a schema it does not know. */
export const DATAPLANE_CONFIG_SCHEMA = 'weir.dev/dataplane-config/v1';

const Port = Type.Integer({ minimum: 1, maximum: 65535 });
const Millis = Type.Integer({ minimum: 0 });
const Id = Type.String({ minLength: 1, maxLength: 512 });
const Hostname = Type.String({ minLength: 1, maxLength: 253 });

/** The Kubernetes object a piece of config came from, for logs, metrics and traces. */
export const ObjectRef = Type.Object({
  kind: Type.String(),
  namespace: Type.String(),
  name: Type.String(),
});
export type ObjectRef = Static<typeof ObjectRef>;

// ---------------------------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------------------------

export const PathMatch = Type.Object({
  /** `Exact`, `PathPrefix` (whole `/`-separated segments; `/` matches everything) or `RegularExpression` (full match, RE2-compatible subset, compiled by the dataplane at swap time). */
  type: Type.Union([Type.Literal('Exact'), Type.Literal('PathPrefix'), Type.Literal('RegularExpression')]),
  /** The path or pattern. PathPrefix values never end in `/` except the root `/`. */
  value: Type.String({ minLength: 1, maxLength: 1024 }),
});
export type PathMatch = Static<typeof PathMatch>;

export const HeaderMatch = Type.Object({
  type: Type.Union([Type.Literal('Exact'), Type.Literal('RegularExpression')]),
  /** Header name, lower-case (header names are case-insensitive). */
  name: Type.String({ minLength: 1, maxLength: 256 }),
  value: Type.String({ maxLength: 4096 }),
});
export type HeaderMatch = Static<typeof HeaderMatch>;

export const QueryParamMatch = Type.Object({
  type: Type.Union([Type.Literal('Exact'), Type.Literal('RegularExpression')]),
  /** Query parameter name, case-sensitive. When repeated in a request, the first value counts. */
  name: Type.String({ minLength: 1, maxLength: 256 }),
  value: Type.String({ maxLength: 4096 }),
});
export type QueryParamMatch = Static<typeof QueryParamMatch>;

/** One match of one rule: every present criterion must hold (AND). */
export const RouteMatch = Type.Object({
  path: PathMatch,
  /** Upper-case HTTP method; absent means any method. */
  method: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
  headers: Type.Array(HeaderMatch),
  queryParams: Type.Array(QueryParamMatch),
});
export type RouteMatch = Static<typeof RouteMatch>;

// ---------------------------------------------------------------------------------------------
// Filters and rule behaviour
// ---------------------------------------------------------------------------------------------

export const HeaderModifier = Type.Object({
  /** Replace (or add) these headers. Names lower-case. */
  set: Type.Array(Type.Object({ name: Type.String(), value: Type.String() })),
  /** Append these values to any existing ones. Names lower-case. */
  add: Type.Array(Type.Object({ name: Type.String(), value: Type.String() })),
  /** Remove these headers. Names lower-case. */
  remove: Type.Array(Type.String()),
});
export type HeaderModifier = Static<typeof HeaderModifier>;

/** How a path is rewritten by a redirect or URL rewrite. */
export const PathModifier = Type.Union([
  Type.Object({ type: Type.Literal('ReplaceFullPath'), replaceFullPath: Type.String() }),
  /** Replace the matched PathPrefix (the rule match's `path.value`) with this value. */
  Type.Object({ type: Type.Literal('ReplacePrefixMatch'), replacePrefixMatch: Type.String() }),
]);
export type PathModifier = Static<typeof PathModifier>;

export const RequestRedirect = Type.Object({
  /** `http` or `https`; absent keeps the request's scheme. */
  scheme: Type.Optional(Type.Union([Type.Literal('http'), Type.Literal('https')])),
  /** Absent keeps the request's host (without port). */
  hostname: Type.Optional(Hostname),
  path: Type.Optional(PathModifier),
  /**
   * Absent: the port is derived per the spec (the scheme's well-known port when the scheme
   * changes, else the listener's port); a well-known port for the scheme is omitted from Location.
   */
  port: Type.Optional(Port),
  statusCode: Type.Union([Type.Literal(301), Type.Literal(302), Type.Literal(303), Type.Literal(307), Type.Literal(308)]),
});
export type RequestRedirect = Static<typeof RequestRedirect>;

export const UrlRewrite = Type.Object({
  hostname: Type.Optional(Hostname),
  path: Type.Optional(PathModifier),
});
export type UrlRewrite = Static<typeof UrlRewrite>;

export const Mirror = Type.Object({
  /** Cluster the copy goes to; the response is discarded. */
  clusterId: Id,
  /** Share of requests mirrored, 0–100 (fractions allowed). */
  percent: Type.Number({ minimum: 0, maximum: 100 }),
});
export type Mirror = Static<typeof Mirror>;

export const Cors = Type.Object({
  /** Origins: `*`, exact `scheme://host[:port]`, or with a leading `*.` host wildcard. */
  allowOrigins: Type.Array(Type.String()),
  allowMethods: Type.Array(Type.String()),
  allowHeaders: Type.Array(Type.String()),
  exposeHeaders: Type.Array(Type.String()),
  allowCredentials: Type.Boolean(),
  /** Seconds for Access-Control-Max-Age. */
  maxAgeSeconds: Type.Integer({ minimum: 0 }),
});
export type Cors = Static<typeof Cors>;

export const Retry = Type.Object({
  /** HTTP status codes that trigger a retry. */
  codes: Type.Array(Type.Integer({ minimum: 400, maximum: 599 })),
  /** Retries after the first attempt. */
  attempts: Type.Integer({ minimum: 0 }),
  /** Base delay between attempts (exponential with jitter from here). */
  backoffMs: Millis,
  /**
   * Also retry when no response arrived because connecting to the backend failed (refused,
   * reset, connect timeout). Absent means false. The translator always sets true.
   */
  connectionErrors: Type.Optional(Type.Boolean()),
});
export type Retry = Static<typeof Retry>;

export const SessionPersistence = Type.Object({
  type: Type.Union([Type.Literal('Cookie'), Type.Literal('Header')]),
  /** Cookie or header name carrying the session. */
  sessionName: Type.String({ minLength: 1 }),
  /** The session ends this long after it began (Session cookies and headers: checked by the dataplane). */
  absoluteTimeoutMs: Type.Optional(Millis),
  /** The session ends after this long without a request; every response refreshes it. */
  idleTimeoutMs: Type.Optional(Millis),
  /** Cookie only: `Permanent` sets Max-Age from absoluteTimeout, `Session` does not. */
  cookieLifetime: Type.Optional(Type.Union([Type.Literal('Permanent'), Type.Literal('Session')])),
  /** Cookie only: the Path attribute; absent means `/`. */
  cookiePath: Type.Optional(Type.String({ minLength: 1 })),
});
export type SessionPersistence = Static<typeof SessionPersistence>;

/** One backendRef of a rule, after resolution. */
export const WeightedBackend = Type.Object({
  /** Relative weight; 0 never receives traffic. */
  weight: Type.Integer({ minimum: 0, maximum: 1000000 }),
  /** Resolved cluster, or absent when the reference is invalid: its share of traffic gets 500. */
  clusterId: Type.Optional(Id),
  /** Filters that apply only when this backend is chosen (HTTPRoute backendRef filters). */
  requestHeaders: Type.Optional(HeaderModifier),
  responseHeaders: Type.Optional(HeaderModifier),
  /** Replaces the rule's `urlRewrite`, field by field (hostname, path), for this backend. */
  urlRewrite: Type.Optional(UrlRewrite),
});
export type WeightedBackend = Static<typeof WeightedBackend>;

/**
 * What happens to a request once a rule matched. Filters run in this order: CORS,
 * redirect (ends the request), request headers, URL rewrite, mirrors, then the backend
 * (response headers on the way back).
 */
export const RuleAction = Type.Object({
  /** The route rule this came from, e.g. `HTTPRoute/ns/name/rule/0` — a metrics label. */
  id: Id,
  route: ObjectRef,
  /** The rule's `name`, when set. */
  ruleName: Type.Optional(Type.String()),
  /**
   * Set when the rule must answer with a fixed status instead of proxying: 500 when the
   * rule is invalid (all backends invalid, unsupported filter, no backendRefs).
   */
  directStatus: Type.Optional(Type.Integer({ minimum: 100, maximum: 599 })),
  cors: Type.Optional(Cors),
  redirect: Type.Optional(RequestRedirect),
  requestHeaders: Type.Optional(HeaderModifier),
  responseHeaders: Type.Optional(HeaderModifier),
  urlRewrite: Type.Optional(UrlRewrite),
  mirrors: Type.Array(Mirror),
  backends: Type.Array(WeightedBackend),
  timeouts: Type.Object({
    /** Whole request, including retries; absent means none. */
    requestMs: Type.Optional(Millis),
    /** Each attempt to a backend; absent means none. */
    backendRequestMs: Type.Optional(Millis),
  }),
  retry: Type.Optional(Retry),
  sessionPersistence: Type.Optional(SessionPersistence),
});
export type RuleAction = Static<typeof RuleAction>;

/**
 * One (rule, match) pair. A listener's `rules` are in the spec's precedence order ignoring
 * hostnames: exact path, longest prefix, method, most headers, most query params, oldest
 * route, namespace/name, rule order, match order. The dataplane first narrows by hostname
 * (exact beats the longest wildcard, which beats no hostname) and then keeps this order.
 */
export const HttpRule = Type.Object({
  /**
   * The route's own hostnames that reach this listener (not narrowed to the listener's, so an exact
   * route hostname outranks a wildcard one: GatewayRouteHostnameIntersectionPrecedence); the
   * listener already limits requests to its hostname. Empty means every host the listener accepts.
   */
  hostnames: Type.Array(Hostname),
  match: RouteMatch,
  /** Index into `DataplaneConfig.actions`. */
  action: Type.Integer({ minimum: 0 }),
  /** gRPC rule: errors are answered gRPC-style (`grpc-status`) instead of plain HTTP. */
  grpc: Type.Boolean(),
});
export type HttpRule = Static<typeof HttpRule>;

// ---------------------------------------------------------------------------------------------
// TLS
// ---------------------------------------------------------------------------------------------

export const Certificate = Type.Object({
  /** PEM certificate chain, leaf first. */
  certPem: Type.String({ minLength: 1 }),
  /** PEM private key. */
  keyPem: Type.String({ minLength: 1 }),
  /** DNS names the certificate covers (from its SANs), used for SNI selection. */
  dnsNames: Type.Array(Type.String()),
});
export type Certificate = Static<typeof Certificate>;

/** Envoy-compatible x-forwarded-client-cert handling. */
export const Xfcc = Type.Object({
  mode: Type.Union([
    Type.Literal('Sanitize'),
    Type.Literal('ForwardOnly'),
    Type.Literal('AppendForward'),
    Type.Literal('SanitizeSet'),
    Type.Literal('AlwaysForwardOnly'),
  ]),
  /** Details added for SanitizeSet/AppendForward; By and Hash are always included. */
  subject: Type.Boolean(),
  cert: Type.Boolean(),
  chain: Type.Boolean(),
  uri: Type.Boolean(),
  dns: Type.Boolean(),
});
export type Xfcc = Static<typeof Xfcc>;

/** Client-certificate validation on a listener port (Gateway.spec.tls.frontend). */
export const FrontendValidation = Type.Object({
  /** Index into `DataplaneConfig.caBundles`. */
  caBundle: Type.Integer({ minimum: 0 }),
  mode: Type.Union([Type.Literal('AllowValidOnly'), Type.Literal('AllowInsecureFallback')]),
});
export type FrontendValidation = Static<typeof FrontendValidation>;

/** How the dataplane connects to a backend over TLS (BackendTLSPolicy + Gateway.spec.tls.backend). */
export const BackendTls = Type.Object({
  /** SNI and, unless `subjectAltNames` is set, the name the server certificate must match. */
  hostname: Hostname,
  /** Index into `caBundles`; absent means the system trust store (`WellKnownCACertificates: System`). */
  caBundle: Type.Optional(Type.Integer({ minimum: 0 })),
  /** When non-empty the server certificate must carry one of these SANs instead of `hostname`. */
  subjectAltNames: Type.Array(
    Type.Object({ type: Type.Union([Type.Literal('Hostname'), Type.Literal('URI')]), value: Type.String() }),
  ),
  /** Index into `certificates`: the Gateway's client certificate (mTLS to the backend). */
  clientCertificate: Type.Optional(Type.Integer({ minimum: 0 })),
});
export type BackendTls = Static<typeof BackendTls>;

// ---------------------------------------------------------------------------------------------
// Backends
// ---------------------------------------------------------------------------------------------

export const Endpoint = Type.Object({
  address: Type.String({ minLength: 1 }),
  port: Port,
  /** EndpointSlice `conditions.ready` (unknown counts as ready); not-ready endpoints are used only when no ready one exists. */
  ready: Type.Boolean(),
});
export type Endpoint = Static<typeof Endpoint>;

/** A Service port (or other backend) and its resolved endpoints. */
export const Cluster = Type.Object({
  /**
   * `<kind>/<namespace>/<name>:<port>`, unique in the config. The translator appends `#grpc`,
   * `#stream` or `#datagram` when a GRPCRoute, a TLS/TCPRoute or a UDPRoute uses the port, since
   * those speak a different protocol.
   */
  id: Id,
  backend: ObjectRef,
  /** How to speak to the endpoints: plain HTTP/1.1, h2c (`kubernetes.io/h2c`), WebSocket-capable (`kubernetes.io/ws`), HTTP/2 over TLS, raw TCP for TLS/TCP routes, or UDP datagrams for UDP routes. */
  protocol: Type.Union([
    Type.Literal('http1'),
    Type.Literal('h2c'),
    Type.Literal('ws'),
    Type.Literal('h2'),
    Type.Literal('tcp'),
    Type.Literal('udp'),
  ]),
  tls: Type.Optional(BackendTls),
  /** Sorted by address then port. Empty means the backend exists but has no endpoint: 503. */
  endpoints: Type.Array(Endpoint),
});
export type Cluster = Static<typeof Cluster>;

// ---------------------------------------------------------------------------------------------
// Listeners
// ---------------------------------------------------------------------------------------------

const ListenerBase = {
  /** `<gateway namespace>/<gateway name>/<listener name>`, or with a ListenerSet `ListenerSet/<ns>/<name>/<listener>`. */
  id: Id,
  port: Port,
  /** The listener's hostname; absent matches every host. */
  hostname: Type.Optional(Hostname),
};

export const HttpListener = Type.Object({
  ...ListenerBase,
  protocol: Type.Literal('HTTP'),
  rules: Type.Array(HttpRule),
});
export type HttpListener = Static<typeof HttpListener>;

export const HttpsListener = Type.Object({
  ...ListenerBase,
  protocol: Type.Literal('HTTPS'),
  /** Indexes into `certificates`, in the listener's certificateRefs order. */
  certificates: Type.Array(Type.Integer({ minimum: 0 })),
  frontendValidation: Type.Optional(FrontendValidation),
  rules: Type.Array(HttpRule),
});
export type HttpsListener = Static<typeof HttpsListener>;

/** A TLSRoute, TCPRoute or UDPRoute attachment: SNI hostnames (TLS) and where the stream or datagrams go. */
export const StreamRoute = Type.Object({
  route: ObjectRef,
  /** SNI names served (the route's own that reach the listener, see the translator's hostname-precedence); empty means any (TCP and UDP). */
  hostnames: Type.Array(Hostname),
  backends: Type.Array(WeightedBackend),
});
export type StreamRoute = Static<typeof StreamRoute>;

export const TlsListener = Type.Object({
  ...ListenerBase,
  protocol: Type.Literal('TLS'),
  /** Passthrough pipes the encrypted stream by SNI; Terminate decrypts and pipes plain bytes. */
  mode: Type.Union([Type.Literal('Passthrough'), Type.Literal('Terminate')]),
  /** Terminate only: indexes into `certificates`. */
  certificates: Type.Array(Type.Integer({ minimum: 0 })),
  routes: Type.Array(StreamRoute),
});
export type TlsListener = Static<typeof TlsListener>;

export const TcpListener = Type.Object({
  ...ListenerBase,
  protocol: Type.Literal('TCP'),
  /** At most one route serves a TCP listener. */
  route: Type.Optional(StreamRoute),
});
export type TcpListener = Static<typeof TcpListener>;

/** Datagrams from each client (address and port) go to one backend endpoint chosen on its first datagram. */
export const UdpListener = Type.Object({
  ...ListenerBase,
  protocol: Type.Literal('UDP'),
  /** At most one route serves a UDP listener. */
  route: Type.Optional(StreamRoute),
});
export type UdpListener = Static<typeof UdpListener>;

export const Listener = Type.Union([HttpListener, HttpsListener, TlsListener, TcpListener, UdpListener]);
export type Listener = Static<typeof Listener>;

// ---------------------------------------------------------------------------------------------
// Request hardening (WeirParameters; absent means the defaults documented on each field)
// ---------------------------------------------------------------------------------------------

/**
 * How request paths are normalised before matching and forwarding (RFC 3986 §6): percent-encoded
 * unreserved characters are decoded, dot-segments removed, and optionally `//` runs merged.
 * Absent: `{ mergeSlashes: true, escapedSlashes: 'Reject' }`.
 */
export const PathPolicy = Type.Object({
  /** Collapse runs of `/` into one. */
  mergeSlashes: Type.Boolean(),
  /**
   * `%2F`, `%5C` and a raw `\` in the path: `Reject` answers 400; `Keep` leaves them as they are
   * (never a segment separator); `Decode` turns them into `/` before normalising.
   */
  escapedSlashes: Type.Union([Type.Literal('Reject'), Type.Literal('Keep'), Type.Literal('Decode')]),
});
export type PathPolicy = Static<typeof PathPolicy>;

export const DEFAULT_PATH_POLICY: PathPolicy = { mergeSlashes: true, escapedSlashes: 'Reject' };

/** Request tracing of the Gateway (WeirParameters `tracing`). */
export const TracingPolicy = Type.Object({
  /** Percent (0–100) of new request traces sampled; absent: the dataplane's `OTEL_TRACES_SAMPLER` decides. A sampled caller's trace is always continued. */
  samplingPercent: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
  /** `Continue` the trace of an incoming `traceparent`, or `Ignore` it (a new trace that links to the caller's span). */
  incomingContext: Type.Union([Type.Literal('Continue'), Type.Literal('Ignore')]),
});
export type TracingPolicy = Static<typeof TracingPolicy>;

/** TLS versions and TLS 1.2 cipher suites accepted from clients on HTTPS and TLS-terminating ports. Absent: TLS 1.2+, ECDHE with AEAD only. */
export const TlsPolicy = Type.Object({
  minVersion: Type.Union([Type.Literal('TLSv1.2'), Type.Literal('TLSv1.3')]),
  /** OpenSSL names of the TLS 1.2 suites, in preference order (TLS 1.3 suites are all AEAD and always on). */
  cipherSuites: Type.Array(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }), { minItems: 1, maxItems: 64 }),
});
export type TlsPolicy = Static<typeof TlsPolicy>;

/** TLS 1.2 and up; on TLS 1.2 only ECDHE key exchange with AEAD ciphers (no CBC, no static RSA). */
export const DEFAULT_TLS_POLICY: TlsPolicy = {
  minVersion: 'TLSv1.2',
  cipherSuites: [
    'ECDHE-ECDSA-AES128-GCM-SHA256',
    'ECDHE-RSA-AES128-GCM-SHA256',
    'ECDHE-ECDSA-AES256-GCM-SHA384',
    'ECDHE-RSA-AES256-GCM-SHA384',
    'ECDHE-ECDSA-CHACHA20-POLY1305',
    'ECDHE-RSA-CHACHA20-POLY1305',
  ],
};

// ---------------------------------------------------------------------------------------------
// The whole config
// ---------------------------------------------------------------------------------------------

export const DataplaneConfig = Type.Object({
  schema: Type.Literal(DATAPLANE_CONFIG_SCHEMA),
  gateway: Type.Object({ namespace: Type.String(), name: Type.String() }),
  /** Only Accepted, non-conflicted listeners; sorted by port, then precedence within a port (most specific hostname first). */
  listeners: Type.Array(Listener),
  actions: Type.Array(RuleAction),
  clusters: Type.Array(Cluster),
  certificates: Type.Array(Certificate),
  /** PEM CA bundles (frontend client validation, backend server validation). */
  caBundles: Type.Array(Type.String({ minLength: 1 })),
  /** Client-certificate forwarding to backends. */
  xfcc: Xfcc,
  /** How many proxies in front of the Gateway are trusted to set X-Forwarded-For/-Proto/-Host. */
  trustedProxyHops: Type.Integer({ minimum: 0, maximum: 16 }),
  pathPolicy: Type.Optional(PathPolicy),
  tlsPolicy: Type.Optional(TlsPolicy),
  /** Client and backend resource limits (see limits.ts); absent fields take the dataplane's defaults. */
  limits: Type.Optional(Limits),
  tracing: Type.Optional(TracingPolicy),
});
export type DataplaneConfig = Static<typeof DataplaneConfig>;

/** What is stored under `weir:config:<namespace>/<gateway>` in Redis. */
export const PublishedConfig = Type.Object({
  /**
   * The operator's leadership term that published this config (see ADR 0005): strictly
   * increasing across terms and durable outside Redis, so Redis losing data cannot turn it back.
   */
  epoch: Type.Integer({ minimum: 1 }),
  /** Strictly increasing per Gateway within an epoch; a dataplane applies only (epoch, version) pairs newer than its own. */
  version: Type.Integer({ minimum: 1 }),
  /** `sha256:<hex>` of the JSON of `config` as published (see api-types/config-codec.ts). */
  digest: Type.String({ pattern: '^sha256:[0-9a-f]{64}$' }),
  /** W3C traceparent of the operator span that produced this version, to link dataplane spans. */
  traceparent: Type.Optional(Type.String()),
  config: DataplaneConfig,
});
export type PublishedConfig = Static<typeof PublishedConfig>;

const publishedConfigCheck = TypeCompiler.Compile(PublishedConfig);

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; errors: string[] };

/**
 * Checks untrusted input (e.g. parsed from Redis) against the contract: shape first, then
 * that every cross reference points into its table. Reports at most `maxErrors` problems.
 */
export function validatePublishedConfig(input: unknown, maxErrors = 10): ValidationResult<PublishedConfig> {
  const errors: string[] = [];
  if (!publishedConfigCheck.Check(input)) {
    for (const error of publishedConfigCheck.Errors(input)) {
      errors.push(`${error.path || '/'}: ${error.message}`);
      if (errors.length >= maxErrors) break;
    }
    return { ok: false, errors };
  }
  errors.push(...brokenReferences(input.config).slice(0, maxErrors));
  return errors.length === 0 ? { ok: true, value: input } : { ok: false, errors };
}

function brokenReferences(config: DataplaneConfig): string[] {
  const problems: string[] = [];
  const clusterIds = new Set(config.clusters.map((cluster) => cluster.id));
  const inRange = (index: number | undefined, table: readonly unknown[]): boolean =>
    index === undefined || index < table.length;
  const checkBackends = (where: string, backends: readonly WeightedBackend[]): void => {
    backends.forEach((backend, i) => {
      if (backend.clusterId !== undefined && !clusterIds.has(backend.clusterId)) {
        problems.push(`${where}/backends/${i}: unknown cluster ${backend.clusterId}`);
      }
    });
  };
  config.actions.forEach((action, i) => {
    checkBackends(`/config/actions/${i}`, action.backends);
    action.mirrors.forEach((mirror, j) => {
      if (!clusterIds.has(mirror.clusterId)) problems.push(`/config/actions/${i}/mirrors/${j}: unknown cluster ${mirror.clusterId}`);
    });
  });
  config.clusters.forEach((cluster, i) => {
    if (!inRange(cluster.tls?.caBundle, config.caBundles)) problems.push(`/config/clusters/${i}/tls/caBundle: out of range`);
    if (!inRange(cluster.tls?.clientCertificate, config.certificates)) {
      problems.push(`/config/clusters/${i}/tls/clientCertificate: out of range`);
    }
  });
  config.listeners.forEach((listener, i) => {
    const where = `/config/listeners/${i}`;
    if (listener.protocol === 'HTTP' || listener.protocol === 'HTTPS') {
      listener.rules.forEach((rule, j) => {
        if (!inRange(rule.action, config.actions)) problems.push(`${where}/rules/${j}/action: out of range`);
      });
    }
    if (listener.protocol === 'HTTPS' || listener.protocol === 'TLS') {
      listener.certificates.forEach((certificate, j) => {
        if (!inRange(certificate, config.certificates)) problems.push(`${where}/certificates/${j}: out of range`);
      });
    }
    if (listener.protocol === 'HTTPS' && !inRange(listener.frontendValidation?.caBundle, config.caBundles)) {
      problems.push(`${where}/frontendValidation/caBundle: out of range`);
    }
    if (listener.protocol === 'TLS') listener.routes.forEach((route, j) => { checkBackends(`${where}/routes/${j}`, route.backends); });
    if ((listener.protocol === 'TCP' || listener.protocol === 'UDP') && listener.route) checkBackends(`${where}/route`, listener.route.backends);
  });
  return problems;
}

/**
 * Prometheus metrics. Label children are resolved once per (rule, backend) at compile time and
 * once per status code on first use, so recording a request is two map-free method calls.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

type RequestLabels = 'route' | 'rule' | 'backend' | 'code';

/** Why the dataplane closed or refused a client connection (or HTTP/2 session) to protect itself. */
export type ClientCloseReason =
  | 'max_connections'
  | 'headers_timeout'
  | 'request_timeout'
  | 'handshake_timeout'
  | 'header_overflow'
  | 'malformed'
  | 'rapid_reset'
  | 'tunnel_idle';

export class DataplaneMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<RequestLabels>;
  readonly duration: Histogram<'route' | 'backend'>;
  readonly upstreamConnectErrors: Counter<'backend'>;
  readonly upstreamAttempts: Counter<'backend' | 'result'>;
  readonly upstreamOverflows: Counter<'backend'>;
  readonly clientCloses: Counter<'port' | 'reason'>;
  readonly retriesSkipped: Counter<'reason'>;
  readonly fatalErrors: Counter<'kind'>;
  readonly configVersion: Gauge;
  readonly configApplies: Counter;
  readonly configRejects: Counter;
  readonly configApplySeconds: Histogram;
  readonly spansDropped: Counter<'reason'>;

  constructor(options: { processMetrics: boolean }) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'weir_http_requests_total',
      help: 'HTTP requests answered, by route, rule, backend cluster and status code.',
      labelNames: ['route', 'rule', 'backend', 'code'],
      registers,
    });
    this.duration = new Histogram({
      name: 'weir_http_request_duration_seconds',
      help: 'Time from request start to response end, by route and backend cluster.',
      labelNames: ['route', 'backend'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.upstreamConnectErrors = new Counter({
      name: 'weir_upstream_connect_errors_total',
      help: 'Failed connection attempts to backend endpoints, by backend cluster.',
      labelNames: ['backend'],
      registers,
    });
    this.upstreamAttempts = new Counter({
      name: 'weir_upstream_attempts_total',
      help: 'Upstream attempts by backend cluster and result (response, connect_error, error, timeout, retry).',
      labelNames: ['backend', 'result'],
      registers,
    });
    this.upstreamOverflows = new Counter({
      name: 'weir_upstream_overflow_total',
      help: 'Requests answered 503 because the chosen endpoint had its connection cap and pending-request queue full, by backend cluster.',
      labelNames: ['backend'],
      registers,
    });
    this.clientCloses = new Counter({
      name: 'weir_client_connections_closed_total',
      help: 'Client connections, HTTP/2 sessions and tunnels closed or refused by a limit, by listener port and reason (max_connections, headers_timeout, request_timeout, handshake_timeout, header_overflow, malformed, rapid_reset, tunnel_idle).',
      labelNames: ['port', 'reason'],
      registers,
    });
    this.retriesSkipped = new Counter({
      name: 'weir_retry_skipped_total',
      help: 'Requests of retrying rules sent without the possibility of a retry, by reason (body_too_large: the body exceeded limits.retryBodyBufferBytes and was streamed).',
      labelNames: ['reason'],
      registers,
    });
    this.fatalErrors = new Counter({
      name: 'weir_process_fatal_errors_total',
      help: 'Exceptions and promise rejections nothing handled; each one shuts the process down (exit status 1).',
      labelNames: ['kind'],
      registers,
    });
    this.configVersion = new Gauge({ name: 'weir_config_version', help: 'Version of the configuration being served (0 before the first).', registers });
    this.configApplies = new Counter({ name: 'weir_config_applies_total', help: 'Configuration versions applied.', registers });
    this.configRejects = new Counter({ name: 'weir_config_rejects_total', help: 'Configuration versions rejected (invalid); the previous one keeps serving.', registers });
    this.spansDropped = new Counter({
      name: 'weir_tracing_spans_dropped_total',
      help: 'Spans never exported, by reason (queue_full: the export queue was full; export_failed: the collector did not take them).',
      labelNames: ['reason'],
      registers,
    });
    this.configApplySeconds = new Histogram({
      name: 'weir_config_apply_duration_seconds',
      help: 'Time to validate, compile and swap in a configuration.',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers,
    });
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'weir_' });
    this.configVersion.set(0);
  }

  clientClosed(port: number, reason: ClientCloseReason): void {
    this.clientCloses.labels({ port: String(port), reason }).inc();
  }

  retrySkipped(reason: 'body_too_large'): void {
    this.retriesSkipped.labels({ reason }).inc();
  }

  stats(route: string, rule: string, backend: string): RequestStats {
    return new RequestStats(this, route, rule, backend);
  }
}

export class RequestStats {
  private readonly metrics: DataplaneMetrics;
  private readonly route: string;
  private readonly rule: string;
  readonly backend: string;
  private readonly byCode = new Map<number, Counter.Internal>();
  private readonly duration: Histogram.Internal<'route' | 'backend'>;
  private connectErrors: Counter.Internal | undefined;

  constructor(metrics: DataplaneMetrics, route: string, rule: string, backend: string) {
    this.metrics = metrics;
    this.route = route;
    this.rule = rule;
    this.backend = backend;
    this.duration = metrics.duration.labels({ route, backend });
  }

  record(code: number, seconds: number): void {
    let counter = this.byCode.get(code);
    if (counter === undefined) {
      counter = this.metrics.requests.labels({ route: this.route, rule: this.rule, backend: this.backend, code: String(code) });
      this.byCode.set(code, counter);
    }
    counter.inc();
    this.duration.observe(seconds);
  }

  connectError(): void {
    this.connectErrors ??= this.metrics.upstreamConnectErrors.labels({ backend: this.backend });
    this.connectErrors.inc();
  }

  overflow(): void {
    this.metrics.upstreamOverflows.labels({ backend: this.backend }).inc();
  }

  attempt(result: 'response' | 'connect_error' | 'error' | 'timeout' | 'retry'): void {
    this.metrics.upstreamAttempts.labels({ backend: this.backend, result }).inc();
  }
}

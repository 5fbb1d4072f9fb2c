/** The operator's Prometheus metrics (served by `metrics-server.ts`). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconciles: Counter<'result'>;
  readonly reconcileDuration: Histogram;
  readonly queueDepth: Gauge;
  readonly debounceWait: Histogram;
  readonly translateDuration: Histogram;
  readonly publishDuration: Histogram;
  readonly configVersion: Gauge<'gateway'>;
  readonly ackLag: Histogram;
  readonly statusWrites: Counter<'result'>;
  readonly leader: Gauge;
  readonly spansDropped: Counter<'reason'>;

  constructor(options: { processMetrics: boolean }) {
    const registers = [this.registry];
    this.reconciles = new Counter({ name: 'weir_operator_reconciles_total', help: 'Reconcile runs (translate and publish), by result (ok, error).', labelNames: ['result'], registers });
    this.reconcileDuration = new Histogram({ name: 'weir_operator_reconcile_duration_seconds', help: 'Time of one reconcile run: snapshot, translate, publish.', buckets: SECONDS, registers });
    this.queueDepth = new Gauge({ name: 'weir_operator_queue_depth', help: 'Store changes (watch events) waiting for the next reconcile run.', registers });
    this.debounceWait = new Histogram({ name: 'weir_operator_debounce_wait_seconds', help: 'Time from the first watch event of a batch to the reconcile run that handles it.', buckets: SECONDS, registers });
    this.translateDuration = new Histogram({ name: 'weir_operator_translate_duration_seconds', help: 'Time to translate a snapshot into dataplane configs and statuses.', buckets: SECONDS, registers });
    this.publishDuration = new Histogram({ name: 'weir_operator_publish_duration_seconds', help: 'Time to publish a round of dataplane configs (Redis writes and notifications).', buckets: SECONDS, registers });
    this.configVersion = new Gauge({ name: 'weir_operator_config_version', help: 'Version of the configuration last published, by Gateway (namespace/name).', labelNames: ['gateway'], registers });
    this.ackLag = new Histogram({ name: 'weir_operator_dataplane_ack_lag_seconds', help: 'Time from publishing a configuration to the first dataplane pod acknowledging it.', buckets: SECONDS, registers });
    this.statusWrites = new Counter({ name: 'weir_operator_status_writes_total', help: 'Status write rounds, by result (ok, error).', labelNames: ['result'], registers });
    this.leader = new Gauge({ name: 'weir_operator_leader', help: '1 while this replica holds the leader Lease, else 0.', registers });
    this.spansDropped = new Counter({ name: 'weir_operator_tracing_spans_dropped_total', help: 'Spans never exported, by reason (queue_full, export_failed).', labelNames: ['reason'], registers });
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'weir_operator_' });
    this.leader.set(0);
    this.queueDepth.set(0);
    this.reconciles.labels({ result: 'ok' });
    this.reconciles.labels({ result: 'error' });
    this.statusWrites.labels({ result: 'ok' });
    this.statusWrites.labels({ result: 'error' });
  }
}

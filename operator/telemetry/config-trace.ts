/**
 * The operator's part of a config-change trace, one trace per Gateway configuration version:
 *
 *   config change (root: first watch event → published)
 *     ├─ debounce    watch event → reconcile run
 *     ├─ translate
 *     ├─ route       one per route added, changed or removed (`weir.route` = `HTTPRoute/ns/name`)
 *     ├─ publish     Redis write + notification; its traceparent travels in the envelope, and
 *     │    └─ config apply (each dataplane pod: receive → validate → compile → swap → ack)
 *     ├─ status write  the first status round after the publish
 *     └─ programmed    the status write that turned Programmed=True, with the ack lag
 *
 * Stages are timed by the reconciler and recorded after the fact with their measured times, since
 * which Gateways get a new version is known only once the publisher compares digests.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import type { Revision } from '../../api-types/config-codec.ts';
import type { DataplaneConfig } from '../../api-types/dataplane-config.ts';
import { spanClock, traceparentOf } from '../../dataplane/telemetry/config-spans.ts';
import type { PublishObserver, PublishedWrite } from '../publisher/publisher.ts';

/** Route spans per version at most; the root's `weir.routes.changed` lists the same. */
const MAX_ROUTE_SPANS = 100;

/** What the reconciler measured for one run (times from `spanClock()`). */
export interface RunTiming {
  /** The first watch event of the batch; undefined for a run nothing in the store triggered (a republish). */
  readonly triggeredAt: number | undefined;
  /** Kinds of the objects whose watch events the run handles. */
  readonly triggers: readonly string[];
  readonly events: number;
  readonly startedAt: number;
  readonly translateStartedAt: number;
  readonly translateEndedAt: number;
}

interface OpenTrace {
  readonly revision: Revision;
  readonly digest: string;
  readonly context: Context;
  readonly publishedAt: number;
  statusWritten: boolean;
}

export class ConfigTraces {
  readonly #tracer: Tracer;
  /** Per Gateway: route name → fingerprint of what the last published version held for it. */
  readonly #routes = new Map<string, Map<string, string>>();
  /** Per Gateway: the newest published version not yet programmed. */
  readonly #open = new Map<string, OpenTrace>();

  constructor(tracer: Tracer) {
    this.#tracer = tracer;
  }

  /** Observes the writes of one publish round: each new version starts its trace. */
  round(run: RunTiming): PublishObserver {
    return {
      write: (gateway, revision, config, digest, bytes) => this.#write(run, gateway, revision, config, digest, bytes),
    };
  }

  /** A status round was written (or failed) for these Gateways. */
  statusWritten(gateways: Iterable<string>, startedAt: number, endedAt: number, error: string | undefined): void {
    for (const id of gateways) {
      const open = this.#open.get(id);
      if (open === undefined || open.statusWritten) continue;
      open.statusWritten = true;
      this.#stage(open.context, 'status write', startedAt, endedAt, {}, error);
    }
  }

  /** The status round that said Programmed=True for `digest` was written. */
  programmed(gateway: string, digest: string, facts: { readonly podsServing: number; readonly pods: number; readonly ackLagMs: number | undefined }, startedAt: number, endedAt: number, error: string | undefined): void {
    const open = this.#open.get(gateway);
    if (open?.digest !== digest) return;
    this.#open.delete(gateway);
    this.#stage(open.context, 'programmed', startedAt, endedAt, {
      'weir.gateway': gateway,
      'weir.config.version': open.revision.version,
      'weir.pods.serving': facts.podsServing,
      'weir.pods.reporting': facts.pods,
      'weir.stage.programmed_ms': round(endedAt - open.publishedAt),
      ...(facts.ackLagMs === undefined ? {} : { 'weir.ack_lag_ms': round(facts.ackLagMs) }),
    }, error);
  }

  /** Gateways gone: forget their state. */
  removed(gateways: Iterable<string>): void {
    for (const id of gateways) {
      this.#open.delete(id);
      this.#routes.delete(id);
    }
  }

  #write(run: RunTiming, gateway: string, revision: Revision, config: DataplaneConfig, digest: string, bytes: number): PublishedWrite {
    const routes = routeFingerprints(config);
    const changes = routeChanges(this.#routes.get(gateway) ?? new Map<string, string>(), routes);
    this.#routes.set(gateway, routes);
    const startedAt = run.triggeredAt ?? run.startedAt;
    const root = this.#tracer.startSpan('config change', {
      kind: SpanKind.INTERNAL,
      startTime: startedAt,
      attributes: {
        'weir.gateway': gateway,
        'weir.config.epoch': revision.epoch,
        'weir.config.version': revision.version,
        'weir.config.digest': digest,
        'weir.config.bytes': bytes,
        'weir.config.listeners': config.listeners.length,
        'weir.config.routes': routes.size,
        'weir.routes.changed': changes.slice(0, MAX_ROUTE_SPANS).map(([name]) => name),
        'weir.trigger.kinds': [...run.triggers],
        'weir.trigger.events': run.events,
        'weir.stage.debounce_ms': round(run.startedAt - startedAt),
        'weir.stage.translate_ms': round(run.translateEndedAt - run.translateStartedAt),
      },
    }, ROOT_CONTEXT);
    const context = trace.setSpan(ROOT_CONTEXT, root);
    if (run.triggeredAt !== undefined) this.#stage(context, 'debounce', run.triggeredAt, run.startedAt, { 'weir.trigger.events': run.events });
    this.#stage(context, 'translate', run.translateStartedAt, run.translateEndedAt, {});
    for (const [name, change] of changes.slice(0, MAX_ROUTE_SPANS)) {
      this.#stage(context, 'route', run.translateEndedAt, run.translateEndedAt, { 'weir.route': name, 'weir.route.change': change, 'weir.gateway': gateway });
    }
    const publishedStartedAt = spanClock();
    const publish = this.#tracer.startSpan('publish', {
      kind: SpanKind.PRODUCER,
      startTime: publishedStartedAt,
      attributes: { 'weir.gateway': gateway, 'weir.config.version': revision.version, 'weir.config.bytes': bytes, 'messaging.system': 'redis', 'messaging.operation.type': 'publish' },
    }, context);
    return {
      traceparent: traceparentOf(publish),
      done: (error) => {
        const endedAt = spanClock();
        if (error !== undefined) fail(publish, error);
        publish.end(endedAt);
        root.setAttribute('weir.stage.publish_ms', round(endedAt - publishedStartedAt));
        if (error !== undefined) fail(root, error);
        else this.#open.set(gateway, { revision, digest, context, publishedAt: endedAt, statusWritten: false });
        root.end(endedAt);
      },
    };
  }

  #stage(parent: Context, name: string, startedAt: number, endedAt: number, attributes: Attributes, error?: string): void {
    const span = this.#tracer.startSpan(name, { startTime: startedAt, attributes }, parent);
    if (error !== undefined) fail(span, error);
    span.end(endedAt);
  }
}

function fail(span: Span, message: string): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** `Kind/namespace/name` of every route in the config → what the config holds for it (its rule actions and matches). */
export function routeFingerprints(config: DataplaneConfig): Map<string, string> {
  const parts = new Map<string, string[]>();
  const add = (route: { kind: string; namespace: string; name: string }, part: unknown): void => {
    const name = `${route.kind}/${route.namespace}/${route.name}`;
    let list = parts.get(name);
    if (list === undefined) parts.set(name, (list = []));
    list.push(JSON.stringify(part));
  };
  config.actions.forEach((action) => { add(action.route, action); });
  for (const listener of config.listeners) {
    if (listener.protocol === 'HTTP' || listener.protocol === 'HTTPS') {
      for (const rule of listener.rules) {
        const action = config.actions[rule.action];
        if (action !== undefined) add(action.route, [listener.id, rule]);
      }
    } else if (listener.protocol === 'TLS') {
      for (const route of listener.routes) add(route.route, [listener.id, route]);
    } else if (listener.route !== undefined) {
      add(listener.route.route, [listener.id, listener.route]);
    }
  }
  return new Map([...parts].map(([name, list]) => [name, list.join('\n')]));
}

function routeChanges(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): [string, 'added' | 'changed' | 'removed'][] {
  const changes: [string, 'added' | 'changed' | 'removed'][] = [];
  for (const [name, fingerprint] of after) {
    const previous = before.get(name);
    if (previous === undefined) changes.push([name, 'added']);
    else if (previous !== fingerprint) changes.push([name, 'changed']);
  }
  for (const name of before.keys()) if (!after.has(name)) changes.push([name, 'removed']);
  return changes.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

// The shape every config-change trace must have, checked on finished spans (in-memory exporter):
// the operator's root and stages, then one `config apply` per dataplane pod under `publish`.
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { Test } from 'tap';

export interface ConfigTraceExpectation {
  readonly gateway: string;
  /** `k8s.pod.name` of every dataplane pod that must have applied the version. */
  readonly pods: readonly string[];
  /** A route (`HTTPRoute/ns/name`) the version added. */
  readonly route: string;
}

const children = (spans: readonly ReadableSpan[], parent: ReadableSpan): ReadableSpan[] =>
  spans.filter((span) => span.parentSpanContext?.spanId === parent.spanContext().spanId && span.spanContext().traceId === parent.spanContext().traceId);

/** The root `config change` span of the version that added `route` to `gateway`, once every span of its trace (programmed included) ended. */
export function findConfigTrace(spans: readonly ReadableSpan[], expected: ConfigTraceExpectation): ReadableSpan | undefined {
  const routeSpan = spans.find((span) => span.name === 'route' && span.attributes['weir.route'] === expected.route && span.attributes['weir.route.change'] === 'added');
  if (routeSpan === undefined) return undefined;
  const root = spans.find((span) => span.spanContext().spanId === routeSpan.parentSpanContext?.spanId);
  if (root === undefined) return undefined;
  const trace = spans.filter((span) => span.spanContext().traceId === root.spanContext().traceId);
  const applies = trace.filter((span) => span.name === 'config apply');
  const done = trace.some((span) => span.name === 'programmed') && expected.pods.every((pod) => applies.some((span) => span.attributes['k8s.pod.name'] === pod && children(trace, span).some((stage) => stage.name === 'ack')));
  return done ? root : undefined;
}

export function checkConfigTrace(t: Test, spans: readonly ReadableSpan[], root: ReadableSpan, expected: ConfigTraceExpectation): void {
  const trace = spans.filter((span) => span.spanContext().traceId === root.spanContext().traceId);
  t.equal(root.name, 'config change');
  t.equal(root.parentSpanContext, undefined, 'the change is the root of its trace');
  t.equal(root.attributes['weir.gateway'], expected.gateway);
  t.ok(Number(root.attributes['weir.config.version']) >= 1, 'root names the version');
  t.ok(Number(root.attributes['weir.config.bytes']) > 0, 'root names the size');
  t.ok(Number(root.attributes['weir.config.listeners']) >= 1, 'root counts listeners');
  t.ok(Number(root.attributes['weir.config.routes']) >= 1, 'root counts routes');
  t.ok((root.attributes['weir.routes.changed'] as string[]).includes(expected.route), 'root lists the changed route');
  t.type(root.attributes['weir.stage.translate_ms'], 'number');
  t.type(root.attributes['weir.stage.publish_ms'], 'number');
  const stages = children(trace, root).map((span) => span.name);
  for (const stage of ['debounce', 'translate', 'route', 'publish', 'status write', 'programmed']) t.ok(stages.includes(stage), `operator stage ${stage}`);
  const publish = children(trace, root).find((span) => span.name === 'publish');
  const applies = publish === undefined ? [] : children(trace, publish).filter((span) => span.name === 'config apply');
  t.same(new Set(applies.map((span) => span.attributes['k8s.pod.name'])), new Set(expected.pods), 'every pod applied it as a child of publish');
  for (const apply of applies) {
    const pod = String(apply.attributes['k8s.pod.name']);
    t.equal(apply.attributes['weir.config.version'], root.attributes['weir.config.version'], `${pod}: same version`);
    t.same(children(trace, apply).map((span) => span.name).sort(), ['ack', 'compile', 'receive', 'swap', 'validate'], `${pod}: receive, validate, compile, swap, ack`);
    t.ok(apply.startTime[0] * 1e9 + apply.startTime[1] >= (publish?.startTime[0] ?? 0) * 1e9 + (publish?.startTime[1] ?? 0), `${pod}: applied after publishing started`);
  }
  const programmed = children(trace, root).find((span) => span.name === 'programmed');
  t.ok(Number(programmed?.attributes['weir.pods.serving']) >= 1, 'programmed says how many pods serve it');
}

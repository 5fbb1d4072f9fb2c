/**
 * A pod's part of a config-change trace: one `config apply` span per revision taken, a child of
 * the operator span whose W3C `traceparent` travelled in the envelope, with one child span per
 * stage (receive → validate → compile → swap → ack). Stages are recorded after the fact with
 * their measured start and end, so the follower only takes timestamps.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

export type ApplyStage = 'receive' | 'validate' | 'compile' | 'swap' | 'ack';

const propagator = new W3CTraceContextPropagator();

/** Milliseconds since the Unix epoch with sub-millisecond precision, the clock every stage is measured with. */
export function spanClock(): number {
  return performance.timeOrigin + performance.now();
}

/** The context a W3C `traceparent` names; the root context for none or a malformed one. */
export function contextFromTraceparent(traceparent: string | undefined): Context {
  if (traceparent === undefined) return ROOT_CONTEXT;
  const carrier: Record<string, string> = { traceparent };
  return propagator.extract(ROOT_CONTEXT, carrier, {
    keys: (source: Record<string, string>) => Object.keys(source),
    get: (source: Record<string, string>, key: string) => source[key],
  });
}

/** The W3C `traceparent` of a span. */
export function traceparentOf(span: Span): string | undefined {
  const carrier: Record<string, string> = {};
  propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, { set: (target: Record<string, string>, key: string, value: string) => { target[key] = value; } });
  return carrier.traceparent;
}

export class ApplySpan {
  readonly #tracer: Tracer;
  readonly #span: Span;
  readonly #context: Context;
  readonly #durations: Record<string, number> = {};

  constructor(tracer: Tracer, traceparent: string | undefined, startedAt: number, attributes: Attributes) {
    this.#tracer = tracer;
    this.#span = tracer.startSpan('config apply', { kind: SpanKind.CONSUMER, startTime: startedAt, attributes }, contextFromTraceparent(traceparent));
    this.#context = trace.setSpan(ROOT_CONTEXT, this.#span);
  }

  stage(name: ApplyStage, startedAt: number, endedAt: number): void {
    this.#tracer.startSpan(name, { startTime: startedAt }, this.#context).end(endedAt);
    this.#durations[`weir.stage.${name}_ms`] = round(endedAt - startedAt);
  }

  setAttributes(attributes: Attributes): void {
    this.#span.setAttributes(attributes);
  }

  fail(reason: string): void {
    this.#span.setAttribute('weir.config.rejected_reason', reason);
    this.#span.setStatus({ code: SpanStatusCode.ERROR, message: reason });
  }

  end(endedAt: number = spanClock()): void {
    this.#span.setAttributes(this.#durations);
    this.#span.end(endedAt);
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/**
 * OpenTelemetry request tracing: a server span per request (or TCP/TLS connection), a client span
 * per upstream attempt and per mirror copy, W3C trace context in and out. Contexts are passed
 * explicitly (no async-context manager), and when tracing is off the proxy holds `undefined`
 * instead of a `Tracing`, so the per-request cost is one comparison.
 *
 * Sampling: the process sampler (`OTEL_TRACES_SAMPLER`) decides, except that a Gateway's
 * `WeirParameters.tracing.samplingPercent` replaces the root ratio of its request traces.
 * An incoming `traceparent` is continued, or with `incomingContext: Ignore` only linked.
 */
import {
  ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Link, type Span, type TextMapGetter, type TextMapSetter, type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { AlwaysOnSampler, ParentBasedSampler, TraceIdRatioBasedSampler, type Sampler, type SamplingResult, type SpanExporter } from '@opentelemetry/sdk-trace';
import type { TracerProvider } from '@opentelemetry/sdk-trace';
import type { IncomingHttpHeaders } from 'node:http';
import { batchSettingsFromEnv, createTracerProvider, samplerFromEnv, tracingEnabled, type BatchSettings, type DropReason } from './otel.ts';

export type { Span, Tracer };

const headerGetter: TextMapGetter<IncomingHttpHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

const headerSetter: TextMapSetter<Record<string, string | string[]>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

/** A Gateway's request-tracing settings, from its config (`DataplaneConfig.tracing`). */
export interface RequestTracingPolicy {
  /** Root sampling ratio (0–1) of the Gateway's request traces; undefined: the process sampler's. */
  readonly samplingRatio: number | undefined;
  /** `Continue` an incoming trace, or `Ignore` it (a new trace, linked to the caller's span). */
  readonly incomingContext: 'Continue' | 'Ignore';
}

export const DEFAULT_REQUEST_TRACING: RequestTracingPolicy = { samplingRatio: undefined, incomingContext: 'Continue' };

/**
 * Server spans (requests, connections) are sampled by the Gateway's ratio when it sets one;
 * everything else (their children, config spans) by the process sampler.
 */
class GatewaySampler implements Sampler {
  readonly #fallback: Sampler;
  #requests: Sampler | undefined;

  constructor(fallback: Sampler) {
    this.#fallback = fallback;
  }

  setRatio(ratio: number | undefined): void {
    this.#requests = ratio === undefined ? undefined : new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
  }

  shouldSample(context: Context, traceId: string, name: string, kind: SpanKind, attributes: Attributes, links: Link[]): SamplingResult {
    const sampler = kind === SpanKind.SERVER && this.#requests !== undefined ? this.#requests : this.#fallback;
    return sampler.shouldSample(context, traceId, name, kind, attributes, links);
  }

  toString(): string {
    return `GatewaySampler{${this.#fallback.toString()}}`;
  }
}

export interface TracingOptions {
  readonly serviceName: string;
  readonly attributes?: Attributes;
  /** Default: OTLP over HTTP as `OTEL_EXPORTER_OTLP_*` say. */
  readonly exporter?: SpanExporter;
  /** Default: parent-based always-on. */
  readonly sampler?: Sampler;
  /** Without it, a given `exporter` gets each span as it ends (tests); otherwise batched. */
  readonly batch?: BatchSettings;
}

export class Tracing {
  /** For config-change spans (`config-spans.ts`). */
  readonly tracer: Tracer;
  private readonly provider: TracerProvider;
  private readonly sampler: GatewaySampler;
  private readonly propagator = new W3CTraceContextPropagator();
  private policy: RequestTracingPolicy = DEFAULT_REQUEST_TRACING;
  private readonly dropListeners = new Set<(count: number, reason: DropReason) => void>();

  constructor(options: TracingOptions) {
    this.sampler = new GatewaySampler(options.sampler ?? new ParentBasedSampler({ root: new AlwaysOnSampler() }));
    this.provider = createTracerProvider({
      ...options,
      sampler: this.sampler,
      onDropped: (count, reason) => { for (const listener of this.dropListeners) listener(count, reason); },
    });
    this.tracer = this.provider.getTracer('weir');
  }

  /** Tells `listener` about spans that never reach the collector (for a metric). */
  onDropped(listener: (count: number, reason: DropReason) => void): void {
    this.dropListeners.add(listener);
  }

  /** Applies a Gateway's settings (at config swap). */
  setPolicy(policy: RequestTracingPolicy): void {
    this.policy = policy;
    this.sampler.setRatio(policy.samplingRatio);
  }

  /** Starts a server span, continuing (or, as configured, linking) the caller's trace when it sent `traceparent`. */
  startServer(name: string, headers: IncomingHttpHeaders, attributes: Attributes): Span {
    if (headers.traceparent === undefined) return this.tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, ROOT_CONTEXT);
    const incoming = this.propagator.extract(ROOT_CONTEXT, headers, headerGetter);
    if (this.policy.incomingContext === 'Continue') return this.tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, incoming);
    const caller = trace.getSpanContext(incoming);
    return this.tracer.startSpan(name, { kind: SpanKind.SERVER, attributes, ...(caller === undefined ? {} : { links: [{ context: caller }] }) }, ROOT_CONTEXT);
  }

  /** A server span for a TCP or TLS connection (no headers to continue a trace from). */
  startConnection(name: string, attributes: Attributes): Span {
    return this.tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, ROOT_CONTEXT);
  }

  startClient(parent: Span, name: string, attributes: Attributes): Span {
    return this.tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, trace.setSpan(ROOT_CONTEXT, parent));
  }

  /** Writes `traceparent` (and `tracestate`) for `span` into outgoing headers. */
  inject(span: Span, headers: Record<string, string | string[]>): void {
    this.propagator.inject(trace.setSpan(ROOT_CONTEXT, span), headers, headerSetter);
  }

  static end(span: Span, statusCode: number, error?: string): void {
    span.setAttribute('http.response.status_code', statusCode);
    if (error !== undefined || statusCode >= 500) {
      if (error !== undefined) span.setAttribute('error.type', error);
      span.setStatus({ code: SpanStatusCode.ERROR, ...(error === undefined ? {} : { message: error }) });
    }
    span.end();
  }

  /** Sends what is queued (bounded by the export timeout). */
  async flush(): Promise<void> {
    await this.provider.forceFlush();
  }

  /** Exports what is queued and stops; a collector that does not answer delays this by at most `timeoutMs`. */
  async shutdown(timeoutMs = 2_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.provider.shutdown().catch(() => undefined),
      new Promise((resolve) => { timer = setTimeout(resolve, timeoutMs); }),
    ]);
    clearTimeout(timer);
  }
}

/** Tracing as the standard `OTEL_*` variables configure it, or undefined when it is off. */
export function tracingFromEnv(env: NodeJS.ProcessEnv, options: { serviceName: string; attributes: Attributes }): Tracing | undefined {
  if (!tracingEnabled(env)) return undefined;
  return new Tracing({
    serviceName: env.OTEL_SERVICE_NAME ?? options.serviceName,
    attributes: options.attributes,
    sampler: samplerFromEnv(env),
    batch: batchSettingsFromEnv(env),
  });
}

/**
 * What one route filter is to the dataplane: at swap time it compiles its part of a rule (and
 * of each of the rule's backends) into stages, and the request path runs those stages. Each
 * filter is one file in this folder, registered once in `index.ts`; its translator half lives
 * in `operator/translator/filters/`.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { RuleAction, WeightedBackend } from '../../api-types/dataplane-config.ts';
import type { Logger } from '../telemetry/log.ts';
import type { EndpointSet, Upstream } from '../upstreams.ts';
import type { HeaderMap } from './headers.ts';

/** A request that matched a rule, before a backend is chosen. */
export interface FilterRequest {
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
  readonly scheme: 'http' | 'https';
  /** The request's host, lower-case without port. */
  readonly host: string;
  /** The normalised path. */
  readonly path: string;
  /** The query without `?`, '' when none. */
  readonly query: string;
  readonly listenerPort: number;
  /** The matched PathPrefix, when the rule matched by prefix. */
  readonly prefix: string | undefined;
}

/** An answer a filter gives instead of forwarding; its headers replace the standard body. */
export interface FilterReply {
  readonly status: number;
  readonly headers: HeaderMap;
}

/** A request as it goes to its backend, for filters that send copies of it. */
export interface ForwardedRequest {
  readonly method: string;
  /** The upstream path and query. */
  readonly path: string;
  /** The upstream headers; copy before changing. */
  readonly headers: HeaderMap;
  /** A new copy of the request body each call; null when the request has none. */
  body(): Readable | null;
  readonly log: Logger;
  /**
   * Starts the trace of one copy (a client span, its context injected into `headers`) when the
   * request is traced; the returned function ends it with the copy's status or error.
   */
  traceCopy?(upstream: Upstream, clusterId: string, headers: HeaderMap): (status: number, error?: string) => void;
}

/** The rule-level part of a filter. */
export interface RuleStage {
  /** Answers the request here (a redirect, a CORS preflight), or undefined to let it through. */
  readonly answer?: (request: FilterRequest) => FilterReply | undefined;
  /** Sends copies of a forwarded request. HTTP exchanges only: a WebSocket tunnel is never copied. */
  readonly copy?: (request: ForwardedRequest) => void;
}

/** The part of a filter that applies to requests sent to one backend of the rule. */
export interface BackendStage {
  /** The path sent upstream (the normalised one, or what an earlier stage made of it). */
  readonly upstreamPath?: (path: string, prefix: string | undefined) => string;
  /** Changes the upstream request headers in place. */
  readonly requestHeaders?: (headers: HeaderMap) => void;
  /** Changes the response headers in place; `request` are the client's request headers. */
  readonly responseHeaders?: (headers: HeaderMap, request: IncomingHttpHeaders) => void;
}

/** What filters may read of the compiled config. */
export interface FilterCluster {
  readonly id: string;
  /** False for raw TCP clusters, which an HTTP request cannot use. */
  readonly supported: boolean;
  readonly endpoints: EndpointSet;
}

export interface FilterCompileContext {
  readonly cluster: (id: string) => FilterCluster | undefined;
}

export interface DataplaneFilter {
  /** The Gateway API filter type, for logs and reviewers. */
  readonly type: string;
  /** The rule-level stage, or undefined when the rule does not use this filter. */
  readonly rule?: (action: RuleAction, context: FilterCompileContext) => RuleStage | undefined;
  /** The stage for requests of `action` sent to `backend` (both levels' settings combined), or undefined. */
  readonly backend?: (action: RuleAction, backend: WeightedBackend) => BackendStage | undefined;
}

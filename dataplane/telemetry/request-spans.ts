/**
 * Names and attributes of request spans: OpenTelemetry HTTP semantic conventions plus where
 * Weir routed the request (`weir.listener`, `weir.route`, `weir.rule`, `weir.backend`). Only
 * called when tracing is on.
 */
import type { Attributes } from '@opentelemetry/api';
import type { Decision } from '../decide.ts';
import type { RequestView } from '../decide.ts';
import type { Upstream } from '../upstreams.ts';

export function serverSpanName(method: string, decision: Decision): string {
  return decision.target === undefined ? method : `${method} ${decision.target.action.route}`;
}

export function serverAttributes(req: RequestView, decision: Decision, port: number, secure: boolean): Attributes {
  const attributes: Attributes = {
    'http.request.method': req.method ?? 'GET',
    'url.scheme': secure ? 'https' : 'http',
    'server.port': port,
    'network.protocol.version': req.httpVersionMajor === 2 ? '2' : '1.1',
  };
  if (decision.path !== undefined) attributes['url.path'] = decision.path;
  const host = req.headers[':authority'] ?? req.headers.host;
  if (typeof host === 'string') attributes['server.address'] = host;
  const agent = req.headers['user-agent'];
  if (agent !== undefined) attributes['user_agent.original'] = agent;
  if (req.socket?.remoteAddress !== undefined) attributes['client.address'] = req.socket.remoteAddress;
  const target = decision.target;
  if (target !== undefined) {
    attributes['weir.route'] = target.action.route;
    attributes['weir.rule'] = target.action.id;
  }
  if (decision.kind === 'forward') {
    attributes['weir.listener'] = decision.listener;
    attributes['weir.backend'] = decision.cluster.id;
  }
  return attributes;
}

/** A client span's attributes: one attempt (`resendCount` 0 for the first) or a mirror copy. */
export function clientAttributes(method: string, upstream: Upstream, backend: string, resendCount: number, mirror = false): Attributes {
  return {
    'http.request.method': method,
    'server.address': upstream.address,
    'server.port': upstream.port,
    'network.protocol.name': 'http',
    'weir.backend': backend,
    ...(resendCount > 0 ? { 'http.request.resend_count': resendCount } : {}),
    ...(mirror ? { 'weir.mirror': true } : {}),
  };
}

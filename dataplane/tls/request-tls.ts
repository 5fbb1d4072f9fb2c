/**
 * What the proxy asks per request on a TLS port: must it answer 421, and which
 * x-forwarded-client-cert value goes to the backend. On plain-HTTP ports only the XFCC part
 * applies (no client certificate there, so a client's header is removed unless AlwaysForwardOnly).
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { PortCertificates } from './certificates.ts';
import { connectionTls, isMisdirected, tlsSocketOf, verifiedClient } from './client-validation.ts';
import { XFCC_HEADER, type XfccPolicy } from './xfcc.ts';

export interface RequestTls {
  /** Answer 421 Misdirected Request instead of routing. */
  readonly misdirected: boolean;
  /** The x-forwarded-client-cert value for the backend; undefined means send none. */
  readonly xfcc: string | undefined;
}

const PLAIN_NONE: RequestTls = { misdirected: false, xfcc: undefined };

function authorityOf(headers: IncomingHttpHeaders): string | undefined {
  const authority = headers[':authority'];
  return typeof authority === 'string' ? authority : headers.host;
}

/** For a request that arrived on a TLS port served by `port` (see https-server.ts). */
export function inspectTlsRequest(req: IncomingMessage | Http2ServerRequest, port: PortCertificates, policy: XfccPolicy): RequestTls {
  const socket = tlsSocketOf(req);
  const state = socket === undefined ? undefined : connectionTls(socket);
  const incoming = req.headers[XFCC_HEADER];
  if (socket === undefined || state === undefined) {
    // Not a connection this port accepted (should not happen): never trust it.
    return { misdirected: true, xfcc: undefined };
  }
  return {
    misdirected: isMisdirected(port, state, authorityOf(req.headers)),
    xfcc: policy.headerValue(incoming, verifiedClient(socket)),
  };
}

/** For a request on a plain-HTTP port. */
export function inspectPlainRequest(headers: IncomingHttpHeaders, policy: XfccPolicy): RequestTls {
  const incoming = headers[XFCC_HEADER];
  if (incoming === undefined) return PLAIN_NONE;
  return { misdirected: false, xfcc: policy.headerValue(incoming, undefined) };
}

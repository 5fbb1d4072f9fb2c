/**
 * gRPC-shaped local answers: a gRPC client expects HTTP 200 with `content-type: application/grpc`
 * and the outcome in `grpc-status` / `grpc-message` (a "trailers-only" response), not an HTML or
 * text error page. HTTP statuses the dataplane would answer with map to gRPC codes the way the
 * gRPC HTTP mapping does (404 → UNIMPLEMENTED, 503 → UNAVAILABLE, ...).
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;
export type GrpcStatusCode = (typeof GrpcStatus)[keyof typeof GrpcStatus];

/** True for gRPC requests (`application/grpc`, `application/grpc+proto`, ...; not grpc-web). */
export function isGrpcRequest(headers: IncomingHttpHeaders): boolean {
  const type = headers['content-type'];
  if (type === undefined || !type.startsWith('application/grpc')) return false;
  const next = type.charCodeAt(16);
  return Number.isNaN(next) || next === 0x2b /* + */ || next === 0x3b /* ; */;
}

/** The gRPC status for an HTTP status the dataplane answers with itself. */
export function grpcStatusForHttp(status: number): GrpcStatusCode {
  switch (status) {
    case 400: return GrpcStatus.INTERNAL;
    case 401: return GrpcStatus.UNAUTHENTICATED;
    case 403: return GrpcStatus.PERMISSION_DENIED;
    case 404: return GrpcStatus.UNIMPLEMENTED;
    case 408:
    case 504: return GrpcStatus.DEADLINE_EXCEEDED;
    case 429:
    case 502:
    case 503: return GrpcStatus.UNAVAILABLE;
    default: return GrpcStatus.UNKNOWN;
  }
}

/** `grpc-message` is percent-encoded (everything outside printable ASCII, and `%`). */
export function encodeGrpcMessage(message: string): string {
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Headers of a trailers-only gRPC response for what would have been HTTP `httpStatus`. */
export function grpcErrorHeaders(httpStatus: number, message: string): OutgoingHttpHeaders {
  return {
    'content-type': 'application/grpc',
    'grpc-status': String(grpcStatusForHttp(httpStatus)),
    'grpc-message': encodeGrpcMessage(message),
  };
}

/** The minimal response surface shared by HTTP/1.1 and HTTP/2 (compat) responses. */
export interface GrpcErrorTarget {
  readonly headersSent: boolean;
  writeHead(status: number, headers: OutgoingHttpHeaders): unknown;
  end(): unknown;
  destroy(): unknown;
}

/** An HTTP/2 compat response exposes its stream; HTTP/1.1 responses have none. */
interface WithStream {
  readonly stream?: { respond(headers: OutgoingHttpHeaders, options: { endStream: boolean }): void } | undefined;
}

/**
 * Sends a trailers-only response: status and headers in one HEADERS frame that ends the stream.
 * gRPC clients read `grpc-status` from the headers only when they end the stream; the compat
 * API's writeHead + end would send an extra empty DATA frame and the status would be lost.
 */
export function respondTrailersOnly(res: GrpcErrorTarget, status: number, headers: OutgoingHttpHeaders): void {
  const stream = (res as WithStream).stream;
  if (stream === undefined) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  stream.respond({ ...headers, ':status': status }, { endStream: true });
}

/** Answers a gRPC request with a trailers-only error (HTTP 200, status in headers). */
export function sendGrpcError(res: GrpcErrorTarget, httpStatus: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  respondTrailersOnly(res, 200, grpcErrorHeaders(httpStatus, message));
}

/** Ends a gRPC response whose headers are already sent with trailers carrying `code`. */
export function endWithGrpcStatus(res: { addTrailers(trailers: OutgoingHttpHeaders): void; end(): unknown }, code: GrpcStatusCode, message: string): void {
  res.addTrailers({ 'grpc-status': String(code), 'grpc-message': encodeGrpcMessage(message) });
  res.end();
}

/**
 * The `grpc-timeout` request header (gRPC over HTTP/2: `TimeoutValue TimeoutUnit`, at most 8
 * digits, unit H, M, S, m, u or n): the client's deadline, which bounds how long the dataplane
 * waits for the backend together with the route's request timeout.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { isGrpcRequest } from './errors.ts';

const UNIT_MS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 0.001, n: 0.000_001 };

/** The timeout in milliseconds (fractions rounded up), or undefined when the value is malformed. */
export function parseGrpcTimeout(value: string): number | undefined {
  if (!/^[0-9]{1,8}[HMSmun]$/.test(value)) return undefined;
  const unit = UNIT_MS[value.charAt(value.length - 1)] as number;
  return Math.ceil(Number(value.slice(0, -1)) * unit);
}

/**
 * How long a request may take: the route's request timeout, shortened by a gRPC request's own
 * `grpc-timeout` (a malformed one is ignored). Undefined: no limit.
 */
export function requestDeadlineMs(routeTimeoutMs: number | undefined, headers: IncomingHttpHeaders): number | undefined {
  const raw = headers['grpc-timeout'];
  if (typeof raw !== 'string' || !isGrpcRequest(headers)) return routeTimeoutMs;
  const grpcMs = parseGrpcTimeout(raw);
  if (grpcMs === undefined) return routeTimeoutMs;
  return routeTimeoutMs === undefined ? grpcMs : Math.min(routeTimeoutMs, grpcMs);
}

/**
 * The answers the dataplane gives itself: one message per status, used for the plain-text body,
 * for gRPC's `grpc-message` and (with Node's reason phrases) for hand-written HTTP/1.1 heads.
 */
import { STATUS_CODES } from 'node:http';
import type { HeaderMap } from './filters/headers.ts';
import type { ServerReply } from './listeners.ts';

const MESSAGES = new Map<number, string>([
  [400, 'bad request'],
  [404, 'no route matches this request'],
  [421, 'this host is served on another connection'],
  [500, 'this route has no valid backend'],
  [502, 'the backend failed to answer'],
  [503, 'no backend endpoint is available'],
  [504, 'the backend did not answer in time'],
]);

const BODIES = new Map<number, Buffer>([...MESSAGES].map(([status, message]) => [status, Buffer.from(`${message}\n`)]));

const TEXT = { 'content-type': 'text/plain; charset=utf-8' };

/** What a local answer with `status` says, e.g. for `grpc-message`. */
export function localMessage(status: number): string {
  return MESSAGES.get(status) ?? STATUS_CODES[status]?.toLowerCase() ?? 'error';
}

/** The reason phrase for a status line written by hand (upgrade answers). */
export function reasonPhrase(status: number): string {
  return STATUS_CODES[status] ?? 'Unknown';
}

const TEXT_CLOSE = { ...TEXT, connection: 'close' };

/**
 * A head and the standard body for `status`; with `headers` (redirects, CORS) no body.
 * `close` ends an HTTP/1.1 connection after the answer (HTTP/2 has no such header).
 */
export function sendLocal(res: ServerReply, status: number, headers?: HeaderMap, close = false): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = headers === undefined ? BODIES.get(status) : undefined;
  res.writeHead(status, close ? (headers === undefined ? TEXT_CLOSE : { ...headers, connection: 'close' }) : headers ?? TEXT);
  if (body === undefined) res.end();
  else res.end(body);
}

/** The local body for a hand-written answer (upgrade path), empty when there is none. */
export function localBody(status: number): Buffer | undefined {
  return BODIES.get(status);
}

/**
 * The server for one HTTPS port: HTTP/2 over TLS with HTTP/1.1 fallback (ALPN `h2`, `http/1.1`),
 * TLS 1.2 minimum, certificates chosen by SNI from a swappable `PortCertificates`, client
 * certificates requested and enforced per listener.
 *
 * `createHttpsServer` returns a plain `Http2SecureServer`, so it can be handed to Fastify through
 * `serverFactory` like the plain HTTP servers. `swap` installs the next config's certificates:
 * new handshakes use them, established connections are untouched.
 */
import { createSecureServer, type Http2SecureServer, type Http2Session, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { SecureContext, TLSSocket } from 'node:tls';
import { acceptSecureConnection, connectionTls, rememberSelection } from './client-validation.ts';
import type { PortCertificates } from './certificates.ts';

export type HttpsRequestHandler = (req: Http2ServerRequest, res: Http2ServerResponse) => void;

const tables = new WeakMap<Http2SecureServer, PortCertificates>();

function serverSettings(port: PortCertificates): { requestCert: boolean; rejectUnauthorized: boolean } & PortCertificates['defaultContextOptions'] {
  return { ...port.defaultContextOptions, ...port.clientCertificates };
}

/** Every TLS connection the server accepted and that is still open. */
const accepted = new WeakMap<Http2SecureServer, Set<TLSSocket>>();
/** The HTTP/2 session on a TLS socket (set through the session's socket proxy, which writes through). */
const SESSION = Symbol('weir.tls.session');
type SessionSocket = TLSSocket & { [SESSION]?: Http2Session };

/** Limits fixed when the server is created (the listener set adjusts the others on the live server). */
export interface HttpsServerLimits {
  /** A TLS handshake not finished by then is dropped. */
  readonly handshakeTimeoutMs: number;
  /** How often HTTP/1.1 connections are checked against the headers and request timeouts. */
  readonly connectionsCheckingIntervalMs: number;
  readonly maxConcurrentStreams: number;
}

export function createHttpsServer(port: PortCertificates, handler: HttpsRequestHandler, limits?: HttpsServerLimits): Http2SecureServer {
  const server = createSecureServer({
    ...serverSettings(port),
    allowHTTP1: true,
    ALPNProtocols: ['h2', 'http/1.1'],
    settings: { enablePush: false, ...(limits === undefined ? {} : { maxConcurrentStreams: limits.maxConcurrentStreams }) },
    ...(limits === undefined ? {} : { handshakeTimeout: limits.handshakeTimeoutMs, connectionsCheckingInterval: limits.connectionsCheckingIntervalMs }),
    SNICallback(this: unknown, servername: string, done: (error: Error | null, context?: SecureContext) => void) {
      const table = tables.get(server);
      if (table === undefined) {
        done(new Error('no certificates for this port'));
        return;
      }
      const selection = table.select(servername);
      // Node calls the SNI callback with the TLS socket as `this`; remember the choice for it so
      // validation and XFCC use exactly the listener and certificate this handshake used.
      if (this !== null && typeof this === 'object' && (this as Partial<TLSSocket>).encrypted === true) rememberSelection(this as TLSSocket, selection);
      done(null, selection.certificate.context);
    },
  }, handler);
  tables.set(server, port);
  const sockets = new Set<TLSSocket>();
  accepted.set(server, sockets);
  server.on('secureConnection', (socket: TLSSocket) => {
    const table = tables.get(server);
    if (table === undefined || acceptSecureConnection(socket, table) === undefined) return;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('session', (session: Http2Session) => {
    (session.socket as SessionSocket)[SESSION] = session;
  });
  return server;
}

/** The certificates this server currently hands out. */
export function currentCertificates(server: Http2SecureServer): PortCertificates | undefined {
  return tables.get(server);
}

/**
 * Installs the next config's certificates, TLS policy and client-certificate settings for new
 * handshakes, and ends the connections whose listener's client validation changed (a CA
 * rotation or a mode switch): HTTP/2 ones get GOAWAY (open streams finish), idle HTTP/1.1 ones
 * are closed, and busy ones are answered 421 and closed by `decide` on their next request.
 */
export function swapCertificates(server: Http2SecureServer, next: PortCertificates): void {
  tables.set(server, next);
  const settings = serverSettings(next);
  server.setSecureContext(settings);
  // setSecureContext leaves these alone, and new connections read them from the server.
  const mutable = server as unknown as { requestCert: boolean; rejectUnauthorized: boolean };
  mutable.requestCert = settings.requestCert;
  mutable.rejectUnauthorized = settings.rejectUnauthorized;
  const keys = new Set(next.listeners.map((listener) => listener.key));
  for (const socket of accepted.get(server) ?? []) {
    const state = connectionTls(socket);
    if (state === undefined || keys.has(state.selection.listener.key)) continue;
    endStaleConnection(socket);
  }
}

function endStaleConnection(socket: TLSSocket): void {
  const session = (socket as SessionSocket)[SESSION];
  if (session !== undefined) session.close();
  // node:http keeps the response in progress on `_httpMessage`; without one the connection is idle.
  else if ((socket as TLSSocket & { _httpMessage?: unknown })._httpMessage == null) socket.destroy();
}

/**
 * The server for one HTTPS port: HTTP/2 over TLS with HTTP/1.1 fallback (ALPN `h2`, `http/1.1`),
 * TLS 1.2 minimum, certificates chosen by SNI from a swappable `PortCertificates`, client
 * certificates requested and enforced per listener.
 *
 * `createHttpsServer` returns a plain `Http2SecureServer`, so it can be handed to Fastify through
 * `serverFactory` like the plain HTTP servers. `swap` installs the next config's certificates:
 * new handshakes use them, established connections are untouched.
 */
import { createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { SecureContext, TLSSocket } from 'node:tls';
import { acceptSecureConnection, rememberSelection } from './client-validation.ts';
import { MIN_TLS_VERSION, type PortCertificates } from './certificates.ts';

export type HttpsRequestHandler = (req: Http2ServerRequest, res: Http2ServerResponse) => void;

const tables = new WeakMap<Http2SecureServer, PortCertificates>();

function serverSettings(port: PortCertificates): { requestCert: boolean; rejectUnauthorized: boolean } & PortCertificates['defaultContextOptions'] {
  return { ...port.defaultContextOptions, ...port.clientCertificates };
}

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
    minVersion: MIN_TLS_VERSION,
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
  server.on('secureConnection', (socket: TLSSocket) => {
    const table = tables.get(server);
    if (table !== undefined) acceptSecureConnection(socket, table);
  });
  return server;
}

/** The certificates this server currently hands out. */
export function currentCertificates(server: Http2SecureServer): PortCertificates | undefined {
  return tables.get(server);
}

/** Installs the next config's certificates and client-certificate settings for new handshakes. */
export function swapCertificates(server: Http2SecureServer, next: PortCertificates): void {
  tables.set(server, next);
  server.setSecureContext(serverSettings(next));
}

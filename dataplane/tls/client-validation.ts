/**
 * Per-connection TLS state for HTTPS ports: which listener and certificate the handshake chose,
 * frontend client-certificate validation (AllowValidOnly / AllowInsecureFallback), the verified
 * client identity for x-forwarded-client-cert, and the misdirected-request check.
 *
 * A connection belongs to the listener its SNI selected. A request on it whose Host belongs to a
 * different listener of the port (HTTP/2 connection coalescing, or a client sending another Host)
 * is answered 421, and so is any request on a connection whose listener changed its client
 * validation since the handshake (the client reconnects and is validated afresh): coalescing can
 * never skip a listener's client-certificate validation.
 */
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import { hostOf } from '../hostnames.ts';
import type { PortCertificates, TlsSelection } from './certificates.ts';
import { VerifiedClient } from './xfcc.ts';

export interface ConnectionTls {
  readonly selection: TlsSelection;
  /** True when this connection's listener validates client certificates and the client's verified. */
  readonly verified: boolean;
}

/*
 * State lives on the socket under private symbols rather than in a WeakMap: HTTP/2 requests only
 * reach their TLS socket through the session's socket proxy, which forwards property reads to the
 * real socket but is a different object (so it cannot be a WeakMap key).
 */
const STATE = Symbol('weir.tls.connection');
const CLIENT = Symbol('weir.tls.client');

interface StatefulSocket {
  [STATE]?: ConnectionTls | undefined;
  [CLIENT]?: VerifiedClient | null;
}

const connections = {
  get(socket: TLSSocket): ConnectionTls | undefined {
    return (socket as TLSSocket & StatefulSocket)[STATE];
  },
  set(socket: TLSSocket, state: ConnectionTls): void {
    (socket as TLSSocket & StatefulSocket)[STATE] = state;
  },
  delete(socket: TLSSocket): void {
    (socket as TLSSocket & StatefulSocket)[STATE] = undefined;
  },
};

const clients = {
  get(socket: TLSSocket): VerifiedClient | null | undefined {
    return (socket as TLSSocket & StatefulSocket)[CLIENT];
  },
  set(socket: TLSSocket, client: VerifiedClient | null): void {
    (socket as TLSSocket & StatefulSocket)[CLIENT] = client;
  },
};

/** Remembers what the SNI callback chose for this socket (before the handshake completes). */
export function rememberSelection(socket: TLSSocket, selection: TlsSelection): void {
  connections.set(socket, { selection, verified: false });
}

/**
 * Call on `secureConnection`. Completes the connection's state from the handshake and applies
 * the listener's validation mode: an AllowValidOnly listener drops a client without a valid
 * certificate (returns undefined); AllowInsecureFallback keeps it but without an identity.
 */
export function acceptSecureConnection(socket: TLSSocket, port: PortCertificates): ConnectionTls | undefined {
  const selection = connections.get(socket)?.selection ?? port.select(typeof socket.servername === 'string' ? socket.servername : undefined);
  const mode = selection.listener.validation;
  const verified = mode !== undefined && socket.authorized;
  if (mode === 'AllowValidOnly' && !verified) {
    socket.destroy();
    connections.delete(socket);
    return undefined;
  }
  const state: ConnectionTls = { selection, verified };
  connections.set(socket, state);
  return state;
}

export function connectionTls(socket: TLSSocket): ConnectionTls | undefined {
  return connections.get(socket);
}

/** The TLS socket under a request, for HTTP/1.1 and HTTP/2 (compat) requests alike. */
export function tlsSocketOf(req: IncomingMessage | Http2ServerRequest): TLSSocket | undefined {
  const session = (req as Partial<Http2ServerRequest>).stream?.session;
  const socket = session === undefined ? req.socket : session.socket;
  return (socket as Partial<TLSSocket>).encrypted === true ? (socket as TLSSocket) : undefined;
}

/**
 * The verified client of a connection (for XFCC), or undefined when the connection has no
 * certificate verified by its listener's CA bundle. Built once per connection.
 */
export function verifiedClient(socket: TLSSocket): VerifiedClient | undefined {
  const cached = clients.get(socket);
  if (cached !== undefined) return cached ?? undefined;
  const state = connections.get(socket);
  let client: VerifiedClient | null = null;
  if (state?.verified === true) {
    const chain = peerChain(socket.getPeerCertificate(true));
    if (chain.length > 0) client = new VerifiedClient(state.selection.certificate.uriSans, chain);
  }
  clients.set(socket, client);
  return client ?? undefined;
}

/**
 * The client's certificate followed by its intermediates, as DER. Node completes the chain with
 * the trust anchor from the CA bundle; like the chain a client sends, ours stops before the
 * self-issued root.
 */
function peerChain(leaf: DetailedPeerCertificate | undefined): Uint8Array[] {
  const chain: Uint8Array[] = [];
  const seen = new Set<string>();
  let current: DetailedPeerCertificate | undefined = leaf;
  while (current?.raw !== undefined && !seen.has(current.fingerprint256)) {
    seen.add(current.fingerprint256);
    const issuer = current.issuerCertificate as DetailedPeerCertificate | undefined;
    const selfIssued = issuer === undefined || issuer === current || issuer.fingerprint256 === current.fingerprint256;
    if (selfIssued && chain.length > 0) break;
    chain.push(current.raw);
    if (selfIssued) break;
    current = issuer;
  }
  return chain;
}

/**
 * True when a request with `authority` must be answered 421 Misdirected Request: its host
 * belongs to another listener of this port than the connection's (or to the same listener with a
 * client validation changed since the handshake). A host no listener serves is left to the router.
 */
export function isMisdirected(port: PortCertificates, connection: ConnectionTls, authority: string | undefined): boolean {
  if (port.listeners.length < 2) return false;
  const target = port.listenerForHost(hostOf(authority));
  if (target === undefined) return false;
  return target.key !== connection.selection.listener.key;
}

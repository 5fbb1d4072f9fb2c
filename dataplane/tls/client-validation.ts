/**
 * Per-connection TLS state for HTTPS ports: which listener and certificate the handshake chose,
 * frontend client-certificate validation (AllowValidOnly / AllowInsecureFallback) and the
 * verified client identity for x-forwarded-client-cert. Whether a request may use the
 * connection (421) is decided with this state in `decide.ts`.
 */
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import type { PortCertificates, TlsSelection } from './certificates.ts';
import { VerifiedClient } from './xfcc.ts';

export interface ConnectionTls {
  readonly selection: TlsSelection;
  /** True when this connection's listener validates client certificates and the client's verified. */
  readonly verified: boolean;
  /** The verified client (for XFCC), undefined without one; built on first use, once per connection. */
  client(): VerifiedClient | undefined;
}

class HandshakeState implements ConnectionTls {
  readonly selection: TlsSelection;
  readonly verified: boolean;
  readonly #socket: TLSSocket;
  #client: VerifiedClient | null | undefined;

  constructor(socket: TLSSocket, selection: TlsSelection, verified: boolean) {
    this.#socket = socket;
    this.selection = selection;
    this.verified = verified;
  }

  client(): VerifiedClient | undefined {
    if (this.#client === undefined) {
      this.#client = null;
      if (this.verified) {
        const chain = peerChain(this.#socket.getPeerCertificate(true));
        if (chain.length > 0) this.#client = new VerifiedClient(this.selection.certificate.uriSans, chain);
      }
    }
    return this.#client ?? undefined;
  }
}

/*
 * State lives on the socket under private symbols rather than in a WeakMap: HTTP/2 requests only
 * reach their TLS socket through the session's socket proxy, which forwards property reads to the
 * real socket but is a different object (so it cannot be a WeakMap key).
 */
const STATE = Symbol('weir.tls.connection');

interface StatefulSocket {
  [STATE]?: ConnectionTls | undefined;
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

/** Remembers what the SNI callback chose for this socket (before the handshake completes). */
export function rememberSelection(socket: TLSSocket, selection: TlsSelection): void {
  connections.set(socket, new HandshakeState(socket, selection, false));
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
  // A client certificate whose signature failed to verify (an issuer with a trusted CA's name
  // but another key) leaves OpenSSL's error on the thread's queue, and Node's next read of the
  // socket then fails with it (ERR_SSL_INVALID_PADDING): the AllowInsecureFallback connection
  // is reset. Reading the peer certificate through node:crypto clears that queue.
  if (mode !== undefined && !socket.authorized) socket.getPeerX509Certificate();
  // A handshake begun before a swap that changed this listener's validation was made with the
  // old settings (perhaps without asking for a certificate): the client must start again.
  if ((mode === 'AllowValidOnly' && !verified) || !port.hasListener(selection.listener)) {
    socket.destroy();
    connections.delete(socket);
    return undefined;
  }
  const state = new HandshakeState(socket, selection, verified);
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

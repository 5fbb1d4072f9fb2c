/**
 * Resource limits of one Gateway's dataplane (`DataplaneConfig.limits`, set through
 * `WeirParameters.spec.limits`): how long a client may take, how many connections and HTTP/2
 * streams it may hold, and how many connections and queued requests one backend endpoint gets.
 * Every field is optional in the config; the dataplane fills the gaps from `DEFAULT_LIMITS`,
 * the one place the defaults are decided.
 */
import { Type, type Static } from '@sinclair/typebox';

const PositiveMillis = Type.Integer({ minimum: 1 });
const Count = Type.Integer({ minimum: 1, maximum: 1_000_000 });

export const Limits = Type.Object({
  /**
   * From a connection's accept (or the end of its previous request) until a request's headers
   * are complete; also bounds the TLS handshake, the h2c preface and the ClientHello of TLS
   * ports. Over it: 408 and close (a handshake or preface: close).
   */
  headersTimeoutMs: Type.Optional(PositiveMillis),
  /** Receiving a whole HTTP/1.1 request, headers and body. Over it: 408 (if no response started) and close. */
  requestReceiveTimeoutMs: Type.Optional(PositiveMillis),
  /** A client connection with no request in flight (HTTP/1.1 keep-alive, HTTP/2 without open streams) is closed after this. */
  idleTimeoutMs: Type.Optional(PositiveMillis),
  /** WebSocket tunnels and TLS/TCP streams with no byte in either direction for this long are closed. */
  tunnelIdleTimeoutMs: Type.Optional(PositiveMillis),
  /** Open client connections per listener port; connections over it are closed at accept. */
  maxConnections: Type.Optional(Count),
  /** HTTP/2 streams one client connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS). */
  http2MaxConcurrentStreams: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  /** Connections to one backend endpoint. */
  backendMaxConnections: Type.Optional(Count),
  /** Requests to one endpoint waiting for a connection beyond `backendMaxConnections`; over it: 503. */
  backendMaxPendingRequests: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
  /**
   * Request bodies up to this many bytes are held so a rule with `retry` can send them again; a
   * longer body streams and its request is not retried. 0: bodies are never held.
   */
  retryBodyBufferBytes: Type.Optional(Type.Integer({ minimum: 0, maximum: 16_777_216 })),
});
export type Limits = Static<typeof Limits>;
export type ResolvedLimits = Required<Limits>;

export const DEFAULT_LIMITS: ResolvedLimits = {
  headersTimeoutMs: 10_000,
  requestReceiveTimeoutMs: 300_000,
  idleTimeoutMs: 60_000,
  tunnelIdleTimeoutMs: 3_600_000,
  maxConnections: 10_000,
  http2MaxConcurrentStreams: 100,
  backendMaxConnections: 1_024,
  backendMaxPendingRequests: 1_024,
  retryBodyBufferBytes: 65_536,
};

/** The configured limits with every unset one at its default. */
export function resolveLimits(limits: Limits | undefined): ResolvedLimits {
  return { ...DEFAULT_LIMITS, ...limits };
}

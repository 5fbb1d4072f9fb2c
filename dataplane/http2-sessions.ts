/**
 * Per-session protections of client HTTP/2 connections (h2 over TLS and h2c): an idle session
 * is closed, and a client that keeps opening streams only to cancel them (rapid reset,
 * CVE-2023-44487) loses its connection. The bound on concurrent streams itself is the
 * SETTINGS_MAX_CONCURRENT_STREAMS the servers advertise (listeners.ts), which nghttp2 enforces by
 * refusing extra streams; Node destroys a session after too many refused streams.
 */
import { constants, type Http2Session, type Http2Stream, type ServerHttp2Stream } from 'node:http2';

/**
 * A session is a rapid-reset abuser once its client has reset at least this many streams before
 * their response started, and those resets are at least half of its streams. A browser or gRPC
 * client cancels some requests; one that cancels most of hundreds is attacking: every stream
 * it opens costs a route lookup and a backend request.
 */
const RAPID_RESET_MIN_RESETS = 100;

export interface SessionGuards {
  /** A session with no open stream is closed (GOAWAY) after this long. */
  readonly idleTimeoutMs: number;
  /** Called when a session is closed as a rapid-reset abuser. */
  readonly onRapidReset: () => void;
}

export function guardSession(session: Http2Session, guards: SessionGuards): void {
  closeWhenIdle(session, guards.idleTimeoutMs);
  closeOnRapidReset(session, guards.onRapidReset);
}

/**
 * Closes (GOAWAY) a session that has been quiet for `idleMs` with no stream open. A server-wide
 * timeout would destroy sessions whose long-lived streams (gRPC streaming, slow responses) are
 * merely silent for a while.
 */
function closeWhenIdle(session: Http2Session, idleMs: number): void {
  let open = 0;
  // One timer per session, re-armed (not re-created) each time the last open stream closes.
  const timer = setTimeout(() => {
    if (open === 0) session.close();
  }, idleMs);
  timer.unref();
  const ended = (): void => {
    if (--open === 0) timer.refresh();
  };
  session.on('stream', (stream: Http2Stream) => {
    open++;
    stream.once('close', ended);
  });
  session.once('close', () => { clearTimeout(timer); });
}

function closeOnRapidReset(session: Http2Session, onRapidReset: () => void): void {
  let streams = 0;
  let earlyResets = 0;
  session.on('stream', (stream: ServerHttp2Stream) => {
    streams++;
    // CANCEL is what a client sends to abandon a stream; the dataplane never resets a client's
    // stream with it. ('aborted' would miss streams whose writable side was already ending.)
    stream.once('close', () => {
      if (stream.rstCode !== constants.NGHTTP2_CANCEL || stream.headersSent || session.destroyed) return;
      earlyResets++;
      if (earlyResets >= RAPID_RESET_MIN_RESETS && earlyResets * 2 >= streams) {
        onRapidReset();
        // (destroy(undefined, code) would send NO_ERROR: its first parameter defaults to a code.)
        session.goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM);
        session.destroy();
      }
    });
  });
}

/**
 * HTTP/1.1 and h2c with prior knowledge on one plain port. Node's `http2.createServer` cannot
 * fall back to HTTP/1.1 without TLS (there is no ALPN to tell them apart), so the HTTP/1.1
 * server owns the listening socket and each new connection is routed by its first bytes: the
 * HTTP/2 client preface (`PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`) goes to the h2c server, anything
 * else to the HTTP/1.1 server's own connection handling. The bytes read are put back with
 * `unshift`, so both servers see the connection from its first byte; after that the socket is
 * theirs and nothing of ours stays on the path.
 */
import type { Server } from 'node:http';
import type { Http2Server } from 'node:http2';
import type { Socket } from 'node:net';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** How long a new connection may take to say which protocol it speaks (read at each accept, so a config swap applies to new connections). */
export interface PrefaceDeadline {
  readonly timeoutMs: () => number;
  /** Called when a connection is closed for missing it. */
  readonly expired: () => void;
}

/** `h2` when `head` starts with the HTTP/2 client preface, `http1` when it cannot, undefined while `head` is a shorter prefix of it. */
export function classifyPreface(head: Buffer): 'h2' | 'http1' | undefined {
  const length = Math.min(head.length, PREFACE.length);
  for (let i = 0; i < length; i++) if (head[i] !== PREFACE[i]) return 'http1';
  return head.length >= PREFACE.length ? 'h2' : undefined;
}

/** Takes over `http1`'s connection handling and routes each connection by its first bytes. */
export function routeByPreface(http1: Server, h2c: Http2Server, deadline: PrefaceDeadline): void {
  const handleHttp1 = http1.listeners('connection') as ((socket: Socket) => void)[];
  http1.removeAllListeners('connection');
  http1.on('connection', (socket: Socket) => {
    let head: Buffer | undefined;
    const timer = setTimeout(() => {
      deadline.expired();
      socket.destroy();
    }, deadline.timeoutMs());
    const onError = (): void => { clearTimeout(timer); };
    const onData = (chunk: Buffer): void => {
      head = head === undefined ? chunk : Buffer.concat([head, chunk]);
      const protocol = classifyPreface(head);
      if (protocol === undefined) return;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onError);
      socket.pause();
      socket.unshift(head);
      if (protocol === 'h2') {
        // The HTTP/2 session reads what is buffered on the socket itself; resuming here would
        // emit those bytes as 'data' events that nobody parses.
        h2c.emit('connection', socket);
      } else {
        for (const listener of handleHttp1) listener.call(http1, socket);
        socket.resume();
      }
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onError);
  });
}

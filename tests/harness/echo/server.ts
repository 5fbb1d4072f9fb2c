/**
 * An echo backend that answers like the Gateway API conformance suite's `echo-basic`: a JSON
 * description of the request (path, host, method, proto, headers, and namespace/ingress/
 * service/pod from its configuration), `/health`, `/status/NNN`, `?delay=<duration>`,
 * `X-Echo-Set-Header: Name:value,...`, a WebSocket echo on `/ws`, an h2c port, and the log line
 * mirror tests look for: `Echoing back request made to <path> to client (<addr>)`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createH2cServer, type Http2Server, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';

export interface EchoIdentity {
  namespace: string;
  ingress: string;
  service: string;
  pod: string;
}

export interface EchoOptions extends Partial<EchoIdentity> {
  host?: string;
  /** 0 (default) picks a free port. */
  httpPort?: number;
  /** Port for HTTP/2 cleartext with prior knowledge; `false` for none. Default: a free port. */
  h2cPort?: number | false;
  /** Receives each log line (default: stdout). */
  log?: (line: string) => void;
}

export interface EchoServer extends EchoIdentity {
  readonly host: string;
  readonly httpPort: number;
  /** 0 when there is no h2c port. */
  readonly h2cPort: number;
  /** Requests answered (all ports, WebSocket upgrades included). */
  readonly requests: number;
  /** Log lines written so far. */
  readonly logLines: readonly string[];
  close(): Promise<void>;
}

type AnyRequest = IncomingMessage | Http2ServerRequest;
/** What the handler needs of an HTTP/1 or HTTP/2 response. */
interface AnyResponse {
  readonly destroyed: boolean;
  writeHead(status: number, headers: Record<string, string>): void;
  end(body: string): void;
}

/** Go's canonical MIME header key: `x-forwarded-for` → `X-Forwarded-For`. */
function canonicalHeaderKey(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_match, dash: string, letter: string) => dash + letter.toUpperCase());
}

function headersOf(rawHeaders: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    if (name === 'host' || name.startsWith(':')) continue;
    (out[canonicalHeaderKey(name)] ??= []).push(rawHeaders[i + 1] as string);
  }
  return out;
}

/** Go-style duration (`500ms`, `1s`, `1.5s`, `2m`) or plain milliseconds. */
export function parseDelay(value: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim());
  if (match === null) return undefined;
  const amount = Number(match[1]);
  const unit = match[2] ?? 'ms';
  return unit === 'ms' ? amount : unit === 's' ? amount * 1000 : amount * 60_000;
}

export async function startEcho(options: EchoOptions = {}): Promise<EchoServer> {
  const host = options.host ?? '127.0.0.1';
  const identity: EchoIdentity = {
    namespace: options.namespace ?? '',
    ingress: options.ingress ?? '',
    service: options.service ?? '',
    pod: options.pod ?? '',
  };
  const logLines: string[] = [];
  const log = (line: string): void => {
    logLines.push(line);
    (options.log ?? ((text: string) => process.stdout.write(`${text}\n`)))(line);
  };
  let requests = 0;

  const answer = (req: AnyRequest, res: AnyResponse, proto: string): void => {
    requests++;
    const url = req.url || '/';
    const remote = `${req.socket.remoteAddress ?? ''}:${req.socket.remotePort ?? ''}`;
    const mark = url.indexOf('?');
    const path = mark === -1 ? url : url.slice(0, mark);
    if (path === '/health') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('OK');
      return;
    }
    log(`Echoing back request made to ${url} to client (${remote})`);
    let status = 200;
    const statusMatch = /^\/status\/(\d{3})$/.exec(path);
    if (statusMatch !== null) status = Number(statusMatch[1]);
    const delay = mark === -1 ? undefined : new URLSearchParams(url.slice(mark + 1)).get('delay');
    const body = JSON.stringify({
      path: url,
      host: (req.headers[':authority'] as string | undefined) ?? req.headers.host ?? '',
      method: req.method,
      proto,
      headers: headersOf(req.rawHeaders),
      ...identity,
    });
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-content-type-options': 'nosniff',
      'content-length': String(Buffer.byteLength(body)),
    };
    const setHeader = req.headers['x-echo-set-header'];
    if (typeof setHeader === 'string') {
      for (const pair of setHeader.split(',')) {
        const colon = pair.indexOf(':');
        if (colon > 0) headers[pair.slice(0, colon).trim().toLowerCase()] = pair.slice(colon + 1).trim();
      }
    }
    const send = (): void => {
      if (res.destroyed) return;
      res.writeHead(status, headers);
      res.end(body);
    };
    const delayMs = delay === null || delay === undefined ? undefined : parseDelay(delay);
    // Read (and drop) any request body first so the client is never blocked on it.
    req.on('data', () => undefined);
    req.once('end', () => {
      if (delayMs === undefined || delayMs === 0) send();
      else setTimeout(send, delayMs);
    });
  };

  const http: Server = createServer({ keepAliveTimeout: 60_000 }, (req, res: ServerResponse) => {
    answer(req, res, `HTTP/${req.httpVersion}`);
  });
  const wss = new WebSocketServer({ noServer: true });
  wss.on('connection', (socket) => {
    socket.on('message', (data, isBinary) => {
      socket.send(data, { binary: isBinary });
    });
  });
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (req.url?.split('?')[0] !== '/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      return;
    }
    requests++;
    log(`Echoing back request made to ${req.url} to client (${req.socket.remoteAddress ?? ''})`);
    wss.handleUpgrade(req, socket, head, (ws) => {
      wss.emit('connection', ws, req);
    });
  });
  await listen(http, options.httpPort ?? 0, host);

  let h2c: Http2Server | undefined;
  if (options.h2cPort !== false) {
    h2c = createH2cServer((req, res: Http2ServerResponse) => {
      answer(req, {
        get destroyed() {
          return res.destroyed;
        },
        writeHead: (status, headers) => {
          res.writeHead(status, headers);
        },
        end: (body) => {
          res.end(body);
        },
      }, 'HTTP/2.0');
    });
    await listen(h2c, options.h2cPort ?? 0, host);
  }

  return {
    ...identity,
    host,
    httpPort: (http.address() as AddressInfo).port,
    h2cPort: h2c === undefined ? 0 : (h2c.address() as AddressInfo).port,
    get requests() {
      return requests;
    },
    logLines,
    async close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      http.closeAllConnections();
      await Promise.all([closeServer(http), h2c === undefined ? undefined : closeServer(h2c)]);
    },
  };
}

async function listen(server: Server | Http2Server, port: number, host: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

async function closeServer(server: Server | Http2Server): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => { resolve(); });
    // http2 sessions linger until their clients go; closing the server only stops accepting.
    setTimeout(resolve, 200).unref();
  });
}

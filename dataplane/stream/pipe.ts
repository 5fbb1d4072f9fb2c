/**
 * Byte pipes between a client and a backend: connect to an endpoint (trying the next one when a
 * connect fails or times out), then splice both directions with backpressure (`pipe`), keep
 * half-closes (a FIN travels to the other side), and tear both down on error, idle timeout or
 * when either side is gone.
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { StreamEndpoint } from './routes.ts';

export interface PipeOptions {
  /** Both directions silent this long: close. */
  idleTimeoutMs: number;
  /** Called when the pipe is closed for being idle. */
  onIdle?: () => void;
}

/**
 * Connects to the first endpoint that accepts (with `tls`: and completes a TLS handshake that
 * passes validation), or rejects with the last error.
 */
export async function connectFirst(endpoints: readonly StreamEndpoint[], timeoutMs: number, client: Duplex, tls?: ConnectionOptions): Promise<Socket> {
  let lastError: Error = new Error('no endpoint');
  for (const endpoint of endpoints) {
    if (client.destroyed) throw new Error('client went away');
    try {
      return await connectOne(endpoint, timeoutMs, client, tls);
    } catch (error) {
      lastError = error as Error;
    }
  }
  throw lastError;
}

function connectOne(endpoint: StreamEndpoint, timeoutMs: number, client: Duplex, tls: ConnectionOptions | undefined): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const upstream: Socket =
      tls === undefined
        ? connect({ host: endpoint.host, port: endpoint.port, allowHalfOpen: true, noDelay: true })
        : tlsConnect({ ...tls, host: endpoint.host, port: endpoint.port }).setNoDelay(true);
    const connectedEvent = tls === undefined ? 'connect' : 'secureConnect';
    const fail = (error: Error): void => {
      cleanup();
      upstream.destroy();
      reject(error);
    };
    const onTimeout = (): void => { fail(new Error(`connect to ${endpoint.host}:${endpoint.port} timed out`)); };
    const onClientClose = (): void => { fail(new Error('client went away')); };
    const onConnect = (): void => {
      cleanup();
      resolve(upstream);
    };
    const timer = setTimeout(onTimeout, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      upstream.off('error', fail);
      upstream.off(connectedEvent, onConnect);
      client.off('close', onClientClose);
    };
    upstream.once('error', fail);
    upstream.once(connectedEvent, onConnect);
    client.once('close', onClientClose);
  });
}

/**
 * Splices `client` and `upstream`. `head` (bytes already read from the client, e.g. a
 * ClientHello) goes to the upstream first. Resolves when both sides are closed.
 */
export function splice(client: Duplex, upstream: Socket, head: Uint8Array | undefined, options: PipeOptions): Promise<void> {
  return new Promise((resolve) => {
    let closed = 0;
    const onClose = (): void => {
      // One side gone for good: the other has nothing left to talk to.
      client.destroy();
      upstream.destroy();
      if (++closed === 2) resolve();
    };
    const onError = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.once('close', onClose);
    upstream.once('close', onClose);
    client.on('error', onError);
    upstream.on('error', onError);
    const idle = (): void => {
      if (!client.destroyed || !upstream.destroyed) options.onIdle?.();
      client.destroy();
      upstream.destroy();
    };
    upstream.setTimeout(options.idleTimeoutMs, idle);
    (client as Partial<Socket>).setTimeout?.(options.idleTimeoutMs, idle);
    if (head !== undefined && head.length > 0) upstream.write(head);
    client.pipe(upstream);
    upstream.pipe(client);
  });
}

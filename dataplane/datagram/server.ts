/**
 * UDP listeners (UDPRoute). One `dgram` socket per port. Each client (source address and port)
 * is a flow: its first datagram picks a backend (by weight) and an endpoint, and a socket of its
 * own sends the client's datagrams there and relays every answer from that endpoint back to the
 * client. A flow ends after `idleTimeoutMs` without a datagram either way; at most
 * `maxFlowsPerPort` flows exist per port, and datagrams of new clients beyond that are dropped
 * (counted) rather than evicting clients that are talking.
 *
 * `apply` swaps the routing of open ports (new flows use the new route; flows keep their
 * endpoint while the new route still has it and are closed otherwise), opens new ports and
 * closes the ones no longer wanted.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Logger } from '../telemetry/log.ts';
import { endpointKey, type CompiledDatagramPort } from './routes.ts';

export interface DatagramListenerOptions {
  /** Address to bind, e.g. `0.0.0.0` in a pod, `127.0.0.1` in tests. */
  host: string;
  /** A flow without a datagram in either direction for this long is closed. */
  idleTimeoutMs: number;
  /** Flows per port; datagrams of further new clients are dropped. */
  maxFlowsPerPort: number;
  log?: Pick<Logger, 'debug' | 'warn'>;
}

export const DEFAULT_DATAGRAM_OPTIONS: Omit<DatagramListenerOptions, 'host'> = {
  idleTimeoutMs: 60_000,
  maxFlowsPerPort: 10_000,
};

interface Flow {
  readonly upstream: Socket;
  readonly endpointHost: string;
  readonly endpointPort: number;
  lastActive: number;
}

function socketType(host: string): 'udp4' | 'udp6' {
  return isIPv6(host) ? 'udp6' : 'udp4';
}

class DatagramPort {
  readonly socket: Socket;
  current: CompiledDatagramPort;
  /** `address|port` of the client → its flow. */
  readonly flows = new Map<string, Flow>();
  /** Datagrams dropped: no route or backend, or the flow table full. */
  dropped = 0;
  readonly #options: DatagramListenerOptions;
  readonly #sweeper: NodeJS.Timeout;

  constructor(compiled: CompiledDatagramPort, options: DatagramListenerOptions) {
    this.current = compiled;
    this.#options = options;
    this.socket = createSocket({ type: socketType(options.host), reuseAddr: false });
    this.socket.on('message', (message, client) => { this.onClientDatagram(message, client); });
    this.socket.on('error', (error) => { options.log?.warn({ port: compiled.port, err: error }, 'UDP listener socket error'); });
    this.#sweeper = setInterval(() => { this.sweep(performance.now()); }, Math.max(10, Math.floor(options.idleTimeoutMs / 4)));
    this.#sweeper.unref();
  }

  listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind({ port, address: this.#options.host }, () => {
        this.socket.off('error', reject);
        resolve();
      });
    });
  }

  /** New routing: flows whose endpoint the new route no longer has are closed. */
  swap(next: CompiledDatagramPort): void {
    this.current = next;
    for (const [client, flow] of this.flows) {
      if (next.route?.endpointKeys.has(endpointKey(flow.endpointHost, flow.endpointPort)) !== true) this.closeFlow(client, flow);
    }
  }

  close(): Promise<void> {
    clearInterval(this.#sweeper);
    for (const [client, flow] of this.flows) this.closeFlow(client, flow);
    return new Promise((resolve) => {
      try {
        this.socket.close(() => { resolve(); });
      } catch {
        resolve(); // never bound, or already closed
      }
    });
  }

  private onClientDatagram(message: Buffer, client: RemoteInfo): void {
    const clientKey = `${client.address}|${client.port}`;
    const now = performance.now();
    let flow = this.flows.get(clientKey);
    if (flow === undefined) {
      flow = this.openFlow(clientKey, client, now);
      if (flow === undefined) {
        this.dropped++;
        return;
      }
    }
    flow.lastActive = now;
    flow.upstream.send(message, flow.endpointPort, flow.endpointHost);
  }

  private openFlow(clientKey: string, client: RemoteInfo, now: number): Flow | undefined {
    const route = this.current.route;
    if (this.flows.size >= this.#options.maxFlowsPerPort) {
      this.#options.log?.debug({ port: this.current.port, client: clientKey }, 'UDP flow table full: datagram dropped');
      return undefined;
    }
    const endpoint = route?.backends.pick()?.attempts(1)[0];
    if (endpoint === undefined) {
      this.#options.log?.debug({ port: this.current.port, route: route?.name }, 'no UDP backend: datagram dropped');
      return undefined;
    }
    const upstream = createSocket(socketType(endpoint.host));
    const flow: Flow = { upstream, endpointHost: endpoint.host, endpointPort: endpoint.port, lastActive: now };
    upstream.on('message', (answer, from) => {
      // Only the chosen endpoint may answer through this flow.
      if (from.port !== endpoint.port || from.address !== endpoint.host) return;
      flow.lastActive = performance.now();
      this.socket.send(answer, client.port, client.address);
    });
    upstream.on('error', (error) => {
      this.#options.log?.debug({ port: this.current.port, err: error }, 'UDP upstream socket error: flow closed');
      this.closeFlow(clientKey, flow);
    });
    this.flows.set(clientKey, flow);
    return flow;
  }

  private closeFlow(clientKey: string, flow: Flow): void {
    if (this.flows.get(clientKey) !== flow) return;
    this.flows.delete(clientKey);
    flow.upstream.close();
  }

  private sweep(now: number): void {
    const idle = this.#options.idleTimeoutMs;
    for (const [client, flow] of this.flows) if (now - flow.lastActive >= idle) this.closeFlow(client, flow);
  }
}

export class DatagramListenerSet {
  readonly #open = new Map<number, DatagramPort>();
  readonly #options: DatagramListenerOptions;

  constructor(options: Partial<DatagramListenerOptions> & Pick<DatagramListenerOptions, 'host'>) {
    this.#options = { ...DEFAULT_DATAGRAM_OPTIONS, ...options };
  }

  get ports(): number[] {
    return [...this.#open.keys()].sort((a, b) => a - b);
  }

  /** Open flows and dropped datagrams of a port, for tests and metrics. */
  stats(port: number): { flows: number; dropped: number } | undefined {
    const open = this.#open.get(port);
    return open === undefined ? undefined : { flows: open.flows.size, dropped: open.dropped };
  }

  /**
   * Makes the open ports match `compiled`: swaps routing on open ports, opens new ones (if one
   * fails to bind, the ports opened by this call are closed and the error thrown) and closes the
   * ones no longer wanted.
   */
  async apply(compiled: ReadonlyMap<number, CompiledDatagramPort>): Promise<void> {
    const opened: number[] = [];
    try {
      for (const [port, next] of compiled) {
        const open = this.#open.get(port);
        if (open !== undefined) {
          open.swap(next);
          continue;
        }
        const created = new DatagramPort(next, this.#options);
        try {
          await created.listen(port);
        } catch (error) {
          await created.close().catch(() => undefined);
          throw error;
        }
        this.#open.set(port, created);
        opened.push(port);
      }
    } catch (error) {
      await Promise.all(opened.map((port) => this.close(port)));
      throw error;
    }
    await Promise.all(this.ports.filter((port) => !compiled.has(port)).map((port) => this.close(port)));
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.ports.map((port) => this.close(port)));
  }

  private async close(port: number): Promise<void> {
    const open = this.#open.get(port);
    if (open === undefined) return;
    this.#open.delete(port);
    await open.close();
  }
}

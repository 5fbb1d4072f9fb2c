/**
 * Compiled TLS/TCP routing for one port, built at swap time: listeners by SNI, routes by SNI
 * within a listener, weighted backends per route, endpoints per backend. Lookups cost the labels
 * of the server name, never the number of routes.
 */
import type { ConnectionOptions } from 'node:tls';
import type { Cluster, DataplaneConfig, StreamRoute, TcpListener, TlsListener } from '../../api-types/dataplane-config.ts';
import { WeightedPicker } from '../balancer.ts';
import { HostTable } from '../hostnames.ts';
import { backendTlsOptions } from '../tls/backend.ts';
import { PortCertificates, type SecureContextCache, type TlsMaterial } from '../tls/certificates.ts';

export interface StreamEndpoint {
  readonly host: string;
  readonly port: number;
}

/** Round robin over ready endpoints, falling back to not-ready ones when none is ready. */
export class EndpointRing {
  readonly clusterId: string;
  readonly endpoints: readonly StreamEndpoint[];
  /**
   * BackendTLSPolicy: connections from Terminate TLS and TCP listeners are TLS to the backend
   * with these options (Passthrough listeners never re-encrypt: the client's TLS goes through).
   */
  readonly tls: ConnectionOptions | undefined;
  #next = 0;

  constructor(cluster: Cluster, material?: TlsMaterial) {
    this.clusterId = cluster.id;
    this.tls = cluster.tls === undefined || material === undefined ? undefined : backendTlsOptions(cluster.tls, material, []);
    const ready = cluster.endpoints.filter((endpoint) => endpoint.ready);
    const chosen = ready.length > 0 ? ready : cluster.endpoints;
    this.endpoints = chosen.map((endpoint) => ({ host: endpoint.address, port: endpoint.port }));
  }

  /** Up to `count` endpoints to try in order, starting with the next in the ring. */
  attempts(count: number): StreamEndpoint[] {
    const total = this.endpoints.length;
    if (total === 0) return [];
    const start = this.#next;
    this.#next = (this.#next + 1) % total;
    const out: StreamEndpoint[] = [];
    for (let i = 0; i < Math.min(count, total); i++) out.push(this.endpoints[(start + i) % total] as StreamEndpoint);
    return out;
  }
}

export interface CompiledStreamRoute {
  /** `Kind/namespace/name`, for logs. */
  readonly name: string;
  /** Undefined picks mean an invalid backendRef: the connection is refused. */
  readonly backends: WeightedPicker<EndpointRing | undefined>;
}

export interface CompiledTlsListener {
  readonly id: string;
  readonly mode: TlsListener['mode'];
  readonly routes: HostTable<CompiledStreamRoute>;
}

export type CompiledStreamPort =
  | {
      readonly kind: 'tls';
      readonly port: number;
      readonly listeners: HostTable<CompiledTlsListener>;
      /** Certificates of the port's Terminate listeners; undefined when all pass through. */
      readonly terminate: PortCertificates | undefined;
    }
  | { readonly kind: 'tcp'; readonly port: number; readonly route: CompiledStreamRoute | undefined };

function compileRoute(route: StreamRoute, rings: ReadonlyMap<string, EndpointRing>): CompiledStreamRoute {
  return {
    name: `${route.route.kind}/${route.route.namespace}/${route.route.name}`,
    backends: new WeightedPicker(route.backends.map((backend) => ({
      item: backend.clusterId === undefined ? undefined : rings.get(backend.clusterId),
      weight: backend.weight,
    }))),
  };
}

function compileTlsListener(listener: TlsListener, rings: ReadonlyMap<string, EndpointRing>): CompiledTlsListener {
  const routes = new HostTable<CompiledStreamRoute>();
  for (const route of listener.routes) {
    const compiled = compileRoute(route, rings);
    // The first route to claim a hostname keeps it (routes arrive in precedence order).
    if (route.hostnames.length === 0) routes.entry(undefined, () => compiled);
    for (const hostname of route.hostnames) routes.entry(hostname, () => compiled);
  }
  return { id: listener.id, mode: listener.mode, routes };
}

/**
 * Compiles every TLS and TCP listener of `config`, grouped by port. A port carries either TCP
 * listeners (the first one's route serves it) or TLS listeners (Passthrough and Terminate may be
 * mixed, told apart by SNI).
 */
export function compileStreamPorts(config: DataplaneConfig, cache: SecureContextCache): Map<number, CompiledStreamPort> {
  const rings = new Map<string, EndpointRing>();
  for (const cluster of config.clusters) if (cluster.protocol === 'tcp') rings.set(cluster.id, new EndpointRing(cluster, config));
  const byPort = new Map<number, (TlsListener | TcpListener)[]>();
  for (const listener of config.listeners) {
    if (listener.protocol !== 'TLS' && listener.protocol !== 'TCP') continue;
    const list = byPort.get(listener.port) ?? [];
    list.push(listener);
    byPort.set(listener.port, list);
  }
  const ports = new Map<number, CompiledStreamPort>();
  for (const [port, listeners] of byPort) {
    const first = listeners[0] as TlsListener | TcpListener;
    if (first.protocol === 'TCP') {
      ports.set(port, { kind: 'tcp', port, route: first.route === undefined ? undefined : compileRoute(first.route, rings) });
      continue;
    }
    const tlsListeners = listeners.filter((listener): listener is TlsListener => listener.protocol === 'TLS');
    const table = new HostTable<CompiledTlsListener>();
    for (const listener of tlsListeners) {
      const compiled = compileTlsListener(listener, rings);
      table.entry(listener.hostname, () => compiled);
    }
    const terminating = tlsListeners.filter((listener) => listener.mode === 'Terminate' && listener.certificates.length > 0);
    const terminate = terminating.length === 0 ? undefined : new PortCertificates(port, terminating, config, cache);
    ports.set(port, { kind: 'tls', port, listeners: table, terminate });
  }
  return ports;
}

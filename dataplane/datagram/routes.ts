/**
 * Compiled UDP routing, built at swap time: per UDP listener port, the route's weighted
 * backends, each a ring of the cluster's endpoints.
 */
import type { DataplaneConfig, StreamRoute } from '../../api-types/dataplane-config.ts';
import { WeightedPicker } from '../balancer.ts';
import { EndpointRing } from '../stream/routes.ts';

export interface CompiledDatagramRoute {
  /** `UDPRoute/namespace/name`, for logs. */
  readonly name: string;
  /** Undefined picks mean an invalid backendRef: that client's datagrams are dropped. */
  readonly backends: WeightedPicker<EndpointRing | undefined>;
  /** `host|port` of every endpoint the route can send to, to keep flows alive across swaps. */
  readonly endpointKeys: ReadonlySet<string>;
}

export interface CompiledDatagramPort {
  readonly port: number;
  /** Undefined when no route is attached: datagrams are dropped. */
  readonly route: CompiledDatagramRoute | undefined;
}

export function endpointKey(host: string, port: number): string {
  return `${host}|${port}`;
}

function compileRoute(route: StreamRoute, rings: ReadonlyMap<string, EndpointRing>): CompiledDatagramRoute {
  const entries = route.backends.map((backend) => ({ item: backend.clusterId === undefined ? undefined : rings.get(backend.clusterId), weight: backend.weight }));
  const endpointKeys = new Set<string>();
  for (const { item, weight } of entries) {
    if (item === undefined || weight === 0) continue;
    for (const endpoint of item.endpoints) endpointKeys.add(endpointKey(endpoint.host, endpoint.port));
  }
  return { name: `${route.route.kind}/${route.route.namespace}/${route.route.name}`, backends: new WeightedPicker(entries), endpointKeys };
}

/** Every UDP listener of `config` by port (the translator places at most one route on each). */
export function compileDatagramPorts(config: DataplaneConfig): Map<number, CompiledDatagramPort> {
  const rings = new Map<string, EndpointRing>();
  for (const cluster of config.clusters) if (cluster.protocol === 'udp') rings.set(cluster.id, new EndpointRing(cluster));
  const ports = new Map<number, CompiledDatagramPort>();
  for (const listener of config.listeners) {
    if (listener.protocol !== 'UDP' || ports.has(listener.port)) continue;
    ports.set(listener.port, { port: listener.port, route: listener.route === undefined ? undefined : compileRoute(listener.route, rings) });
  }
  return ports;
}

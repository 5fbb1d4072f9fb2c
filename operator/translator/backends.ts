/**
 * backendRefs → clusters: Services resolved through EndpointSlices (service port → endpoint
 * port by port name, so `targetPort` names, headless and selector-less Services all work),
 * appProtocol → cluster protocol, ReferenceGrant checks for cross-namespace references.
 */
import type { Cluster, Endpoint } from '../../api-types/dataplane-config.ts';
import type { BackendObjectReference, EndpointSlice, Service } from '../../api-types/gateway-api/index.ts';
import { GATEWAY_API_GROUP } from '../../api-types/gateway-api/meta.ts';
import { SERVICE_NAME_LABEL } from '../../api-types/gateway-api/core.ts';
import type { BackendTlsPolicies, BackendTlsSettings } from './backend-tls.ts';
import { Reason, type Problem } from './conditions.ts';
import { key, type Entry } from './meta.ts';
import { compareStrings, int, isPort, name } from './read.ts';
import type { ReferenceGrants } from './references.ts';
import type { RouteKind } from './status.ts';

/** How the route uses the backend: HTTP proxying, gRPC (always HTTP/2), a raw stream or UDP datagrams. */
export type BackendUse = 'http' | 'grpc' | 'stream' | 'datagram';

/** A cluster before it is placed into one Gateway's config (CA and client cert are per config). */
export interface ResolvedCluster {
  readonly id: string;
  readonly backend: Cluster['backend'];
  readonly protocol: Cluster['protocol'];
  readonly endpoints: readonly Endpoint[];
  readonly tls: BackendTlsSettings | undefined;
  /** `<namespace>/<name>` of the Service, for BackendTLSPolicy ancestor status. */
  readonly serviceKey: string;
}

/**
 * `invalid`: the reference is wrong. `unusable`: the Service exists but its BackendTLSPolicy is
 * invalid, so traffic to it must fail (5xx); the policy's status says why, and the route's
 * ResolvedRefs is False with `problem` too (the spec counts such a backendRef as invalid), while the
 * policy still gets the Gateways using the Service as ancestors.
 */
export type BackendResolution =
  | { readonly kind: 'cluster'; readonly cluster: ResolvedCluster }
  | { readonly kind: 'invalid'; readonly problem: Problem }
  | { readonly kind: 'unusable'; readonly problem: Problem; readonly serviceKey: string };

const USE_INDEX: Readonly<Record<BackendUse, number>> = { http: 0, grpc: 1, stream: 2, datagram: 3 };

function invalid(reason: Problem['reason'], message: string): BackendResolution {
  return { kind: 'invalid', problem: { reason, message } };
}

export class Backends {
  readonly #services = new Map<string, Service>();
  readonly #slicesByService = new Map<string, EndpointSlice[]>();
  /** namespace → Service name → `port * 4 + use` → resolution; nested so a lookup builds no key string. */
  readonly #cache = new Map<string, Map<string, Map<number, BackendResolution>>>();
  readonly #grants: ReferenceGrants;
  readonly #policies: BackendTlsPolicies;

  constructor(services: readonly Entry<Service>[], slices: readonly Entry<EndpointSlice>[], grants: ReferenceGrants, policies: BackendTlsPolicies) {
    this.#grants = grants;
    this.#policies = policies;
    for (const { meta, object } of services) this.#services.set(key(meta.namespace, meta.name), object);
    for (const { meta, object } of slices) {
      const serviceName = meta.labels[SERVICE_NAME_LABEL];
      if (serviceName === undefined) continue;
      const sliceKey = key(meta.namespace, serviceName);
      const group = this.#slicesByService.get(sliceKey);
      if (group === undefined) this.#slicesByService.set(sliceKey, [object]);
      else group.push(object);
    }
  }

  /** Resolves a backendRef (or mirror backendRef) of a route in `routeNamespace`. */
  resolve(routeKind: RouteKind, routeNamespace: string, ref: BackendObjectReference | undefined, use: BackendUse): BackendResolution {
    const group = ref?.group ?? '';
    const kind = ref?.kind ?? 'Service';
    const serviceName = name(ref?.name);
    const namespace = name(ref?.namespace) ?? routeNamespace;
    const port = int(ref?.port);
    if (group !== '' || kind !== 'Service') return invalid(Reason.InvalidKind, `backendRef kind ${group === '' ? '' : group + '/'}${kind} is not supported`);
    if (serviceName === undefined) return invalid(Reason.BackendNotFound, 'backendRef has no name');
    const permitted = this.#grants.permits({ group: GATEWAY_API_GROUP, kind: routeKind, namespace: routeNamespace }, { group: '', kind: 'Service', namespace, name: serviceName });
    if (!permitted) return invalid(Reason.RefNotPermitted, `backendRef to Service ${namespace}/${serviceName} not permitted by any ReferenceGrant`);
    if (!isPort(port)) return invalid(Reason.BackendNotFound, `backendRef to Service ${namespace}/${serviceName} needs a port`);
    let byName = this.#cache.get(namespace);
    if (byName === undefined) this.#cache.set(namespace, (byName = new Map<string, Map<number, BackendResolution>>()));
    let byPort = byName.get(serviceName);
    if (byPort === undefined) byName.set(serviceName, (byPort = new Map<number, BackendResolution>()));
    const portKey = port * 4 + USE_INDEX[use];
    let resolution = byPort.get(portKey);
    if (resolution === undefined) {
      resolution = this.#resolveService(namespace, serviceName, port, use);
      byPort.set(portKey, resolution);
    }
    return resolution;
  }

  #resolveService(namespace: string, serviceName: string, port: number, use: BackendUse): BackendResolution {
    const service = this.#services.get(key(namespace, serviceName));
    if (service === undefined) return invalid(Reason.BackendNotFound, `Service ${namespace}/${serviceName} not found`);
    const { spec } = service;
    if (spec.type === 'ExternalName') {
      return invalid(Reason.UnsupportedProtocol, `Service ${namespace}/${serviceName} is of type ExternalName, which Weir does not proxy to`);
    }
    const servicePort = spec.ports?.find((candidate) => int(candidate.port) === port);
    if (servicePort === undefined) return invalid(Reason.BackendNotFound, `Service ${namespace}/${serviceName} has no port ${port}`);
    const portName = servicePort.name ?? '';
    const { appProtocol } = servicePort;
    // BackendTLSPolicy secures TCP connections; UDP datagrams are forwarded as they are.
    const tls = use === 'datagram' ? undefined : this.#policies.settingsFor(namespace, serviceName, portName);
    if (tls !== undefined && 'invalid' in tls) {
      // HTTPBackendRef: a backendRef is invalid when "a BackendTLSPolicy is present that refers to the
      // Service, and the implementation is unable to meet the requirement". The spec names no reason
      // for it; UnsupportedProtocol is its reason for a backend the route cannot reach with the
      // protocol required (here: TLS as the policy specifies).
      return { kind: 'unusable', problem: { reason: Reason.UnsupportedProtocol, message: tls.invalid }, serviceKey: key(namespace, serviceName) };
    }
    const protocol = clusterProtocol(use, appProtocol, tls !== undefined);
    const suffix = use === 'http' ? '' : `#${use}`;
    return {
      kind: 'cluster',
      cluster: {
        id: `Service/${namespace}/${serviceName}:${port}${suffix}`,
        backend: { kind: 'Service', namespace, name: serviceName },
        protocol,
        endpoints: this.#endpoints(namespace, serviceName, portName),
        tls,
        serviceKey: key(namespace, serviceName),
      },
    };
  }

  #endpoints(namespace: string, serviceName: string, portName: string): Endpoint[] {
    const byAddress = new Map<string, Endpoint>();
    for (const slice of this.#slicesByService.get(key(namespace, serviceName)) ?? []) {
      const slicePort = slice.ports?.find((candidate) => (candidate.name ?? '') === portName);
      const port = int(slicePort?.port);
      if (!isPort(port)) continue;
      for (const endpoint of slice.endpoints ?? []) {
        const ready = endpoint.conditions?.ready !== false;
        for (const address of endpoint.addresses) {
          if (address.length === 0) continue;
          const endpointKey = `${address}|${port}`;
          const existing = byAddress.get(endpointKey);
          if (existing === undefined || (!existing.ready && ready)) byAddress.set(endpointKey, { address, port, ready });
        }
      }
    }
    return [...byAddress.values()].sort((a, b) => compareStrings(a.address, b.address) || a.port - b.port);
  }
}

function clusterProtocol(use: BackendUse, appProtocol: string | undefined, tls: boolean): Cluster['protocol'] {
  if (use === 'stream') return 'tcp';
  if (use === 'datagram') return 'udp';
  if (use === 'grpc') return tls ? 'h2' : 'h2c';
  switch (appProtocol) {
    case 'kubernetes.io/h2c':
      return tls ? 'h2' : 'h2c';
    case 'kubernetes.io/ws':
    case 'kubernetes.io/wss':
      return 'ws';
    default:
      return 'http1';
  }
}

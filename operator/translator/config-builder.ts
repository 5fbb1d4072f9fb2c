/**
 * Assembles one Gateway's DataplaneConfig: shared tables (actions, clusters, certificates, CA
 * bundles) each entry stored once and referenced by index or id, plus the listeners.
 */
import {
  DATAPLANE_CONFIG_SCHEMA,
  type Certificate,
  type Cluster,
  type DataplaneConfig,
  type HttpRule,
  type Listener,
  type RuleAction,
  type StreamRoute,
} from '../../api-types/dataplane-config.ts';
import type { ResolvedCluster } from './backends.ts';
import type { GatewayState } from './gateways.ts';
import { isWildcard } from './hostnames.ts';
import type { ListenerState } from './listeners.ts';
import { compareStrings } from './read.ts';

export class ConfigBuilder {
  readonly #gateway: GatewayState;
  readonly #actions: RuleAction[] = [];
  readonly #actionIndex = new Map<RuleAction, number>();
  readonly #clusters = new Map<string, Cluster>();
  readonly #certificates: Certificate[] = [];
  readonly #certificateIndex = new Map<string, number>();
  readonly #caBundles: string[] = [];
  readonly #caIndex = new Map<string, number>();
  readonly #listeners: Listener[] = [];
  /** Services this config sends traffic to (`<ns>/<name>`), for BackendTLSPolicy ancestors. */
  readonly usedServices = new Set<string>();

  constructor(gateway: GatewayState) {
    this.#gateway = gateway;
  }

  action(action: RuleAction, clusters: readonly ResolvedCluster[], unusableServices: readonly string[]): number {
    for (const cluster of clusters) this.cluster(cluster);
    for (const service of unusableServices) this.usedServices.add(service);
    let index = this.#actionIndex.get(action);
    if (index === undefined) {
      index = this.#actions.push(action) - 1;
      this.#actionIndex.set(action, index);
    }
    return index;
  }

  cluster(resolved: ResolvedCluster): void {
    this.usedServices.add(resolved.serviceKey);
    if (this.#clusters.has(resolved.id)) return;
    const cluster: { -readonly [K in keyof Cluster]: Cluster[K] } = {
      id: resolved.id,
      backend: resolved.backend,
      protocol: resolved.protocol,
      endpoints: [...resolved.endpoints],
    };
    if (resolved.tls !== undefined) {
      const tls: NonNullable<Cluster['tls']> = { hostname: resolved.tls.hostname, subjectAltNames: resolved.tls.subjectAltNames };
      cluster.tls = {
        ...tls,
        ...(resolved.tls.caPem === undefined ? {} : { caBundle: this.caBundle(resolved.tls.caPem) }),
        ...(this.#gateway.backendClientCertificate === undefined ? {} : { clientCertificate: this.certificate(this.#gateway.backendClientCertificate) }),
      };
    }
    this.#clusters.set(resolved.id, cluster);
  }

  certificate(certificate: Certificate): number {
    const certificateKey = certificate.certPem + certificate.keyPem;
    let index = this.#certificateIndex.get(certificateKey);
    if (index === undefined) {
      index = this.#certificates.push(certificate) - 1;
      this.#certificateIndex.set(certificateKey, index);
    }
    return index;
  }

  caBundle(pem: string): number {
    let index = this.#caIndex.get(pem);
    if (index === undefined) {
      index = this.#caBundles.push(pem) - 1;
      this.#caIndex.set(pem, index);
    }
    return index;
  }

  httpListener(listener: ListenerState, rules: HttpRule[]): void {
    const base = { id: listener.id, port: listener.port, ...(listener.hostname === undefined ? {} : { hostname: listener.hostname }) };
    if (listener.protocol === 'HTTP') {
      this.#listeners.push({ ...base, protocol: 'HTTP', rules });
      return;
    }
    const certificates = listener.certificates.map((certificate) => this.certificate(certificate));
    const validation = listener.frontendValidation;
    this.#listeners.push({
      ...base,
      protocol: 'HTTPS',
      certificates,
      ...(validation === undefined ? {} : { frontendValidation: { caBundle: this.caBundle(validation.caPem), mode: validation.mode } }),
      rules,
    });
  }

  tlsListener(listener: ListenerState, routes: StreamRoute[]): void {
    const base = { id: listener.id, port: listener.port, ...(listener.hostname === undefined ? {} : { hostname: listener.hostname }) };
    const mode = listener.tlsMode ?? 'Terminate';
    const certificates = mode === 'Terminate' ? listener.certificates.map((certificate) => this.certificate(certificate)) : [];
    this.#listeners.push({ ...base, protocol: 'TLS', mode, certificates, routes });
  }

  /** A TCP or UDP listener: the one route it forwards to. */
  singleRouteListener(listener: ListenerState, protocol: 'TCP' | 'UDP', route: StreamRoute | undefined): void {
    this.#listeners.push({ id: listener.id, port: listener.port, protocol, ...(route === undefined ? {} : { route }) });
  }

  build(): DataplaneConfig {
    const listeners = [...this.#listeners].sort(
      (a, b) => a.port - b.port || hostnameRank(a.hostname) - hostnameRank(b.hostname) || (b.hostname?.length ?? 0) - (a.hostname?.length ?? 0) || compareStrings(a.id, b.id),
    );
    return {
      schema: DATAPLANE_CONFIG_SCHEMA,
      gateway: { namespace: this.#gateway.meta.namespace, name: this.#gateway.meta.name },
      listeners,
      actions: this.#actions,
      clusters: [...this.#clusters.values()].sort((a, b) => compareStrings(a.id, b.id)),
      certificates: this.#certificates,
      caBundles: this.#caBundles,
      xfcc: this.#gateway.parameters.xfcc,
      trustedProxyHops: this.#gateway.parameters.trustedProxyHops,
      ...this.#gateway.parameters.hardening,
      ...(Object.keys(this.#gateway.parameters.limits).length === 0 ? {} : { limits: this.#gateway.parameters.limits }),
    };
  }
}

/** Exact hostnames first, then wildcards, then listeners without a hostname. */
function hostnameRank(hostname: string | undefined): number {
  return hostname === undefined ? 2 : isWildcard(hostname) ? 1 : 0;
}

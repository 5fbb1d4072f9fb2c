/** TLSRoute, TCPRoute and UDPRoute: backends of all rules, weighted; TLSRoute hostnames are SNI names. */
import type { WeightedBackend } from '../../api-types/dataplane-config.ts';
import type { Backends, ResolvedCluster } from './backends.ts';
import { Reason, type Problem } from './conditions.ts';
import type { TCPRoute, TLSRoute, UDPRoute } from '../../api-types/gateway-api/index.ts';
import type { Entry } from './meta.ts';
import { int } from './read.ts';
import { readHostnames, type RouteTranslation } from './route-common.ts';

export interface StreamTranslation extends RouteTranslation {
  readonly backends: readonly WeightedBackend[];
  readonly clusters: readonly ResolvedCluster[];
  readonly unusableServices: readonly string[];
}

export function translateStreamRoute(kind: 'TLSRoute' | 'TCPRoute' | 'UDPRoute', { meta, object }: Entry<TLSRoute | TCPRoute | UDPRoute>, backends: Backends): StreamTranslation {
  const { spec } = object;
  const hostnames = kind === 'TLSRoute' ? readHostnames('hostnames' in spec ? spec.hostnames : undefined) : undefined;
  let routeProblem: Problem | undefined = hostnames?.problem;
  if (kind === 'TLSRoute' && routeProblem === undefined && hostnames?.hostnames.length === 0) {
    routeProblem = { reason: Reason.UnsupportedValue, message: 'a TLSRoute needs at least one hostname' };
  }
  let refProblem: Problem | undefined;
  const weighted: WeightedBackend[] = [];
  const clusters: ResolvedCluster[] = [];
  const unusableServices: string[] = [];
  for (const rule of spec.rules ?? []) {
    for (const ref of rule.backendRefs ?? []) {
      const weight = ref.weight === undefined ? 1 : int(ref.weight);
      if (weight === undefined || weight < 0 || weight > 1_000_000) {
        routeProblem ??= { reason: Reason.UnsupportedValue, message: 'backendRef weight must be an integer from 0 to 1000000' };
        continue;
      }
      const resolution = backends.resolve(kind, meta.namespace, ref, kind === 'UDPRoute' ? 'datagram' : 'stream');
      if (resolution.kind === 'cluster') {
        weighted.push({ weight, clusterId: resolution.cluster.id });
        clusters.push(resolution.cluster);
      } else {
        refProblem ??= resolution.problem;
        if (resolution.kind === 'unusable') unusableServices.push(resolution.serviceKey);
        weighted.push({ weight });
      }
    }
  }
  return {
    kind,
    meta,
    parentRefs: spec.parentRefs ?? [],
    hostnames: hostnames?.hostnames,
    routeProblem,
    rules: refProblem === undefined ? [] : [{ action: undefined, matches: [], clusters: [], unusableServices: [], invalid: undefined, refProblem }],
    backends: weighted,
    clusters,
    unusableServices,
  };
}

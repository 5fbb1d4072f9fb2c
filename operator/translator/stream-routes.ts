/** TLSRoute, TCPRoute and UDPRoute: backends of all rules, weighted; TLSRoute hostnames are SNI names. */
import type { WeightedBackend } from '../../api-types/dataplane-config.ts';
import type { Backends, ResolvedCluster } from './backends.ts';
import { Reason, type Problem } from './conditions.ts';
import type { Entry } from './meta.ts';
import { field, int, list } from './read.ts';
import { readHostnames, type RouteTranslation } from './route-common.ts';

export interface StreamTranslation extends RouteTranslation {
  readonly backends: readonly WeightedBackend[];
  readonly clusters: readonly ResolvedCluster[];
  readonly unusableServices: readonly string[];
}

export function translateStreamRoute(kind: 'TLSRoute' | 'TCPRoute' | 'UDPRoute', { meta, object }: Entry<unknown>, backends: Backends): StreamTranslation {
  const spec = field(object, 'spec');
  const hostnames = kind === 'TLSRoute' ? readHostnames(field(spec, 'hostnames')) : undefined;
  let routeProblem: Problem | undefined = hostnames?.problem;
  if (kind === 'TLSRoute' && routeProblem === undefined && hostnames?.hostnames.length === 0) {
    routeProblem = { reason: Reason.UnsupportedValue, message: 'a TLSRoute needs at least one hostname' };
  }
  let refProblem: Problem | undefined;
  const weighted: WeightedBackend[] = [];
  const clusters: ResolvedCluster[] = [];
  const unusableServices: string[] = [];
  for (const rule of list(field(spec, 'rules'))) {
    for (const ref of list(field(rule, 'backendRefs'))) {
      const rawWeight = field(ref, 'weight');
      const weight = rawWeight === undefined ? 1 : int(rawWeight);
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
    parentRefs: field(spec, 'parentRefs'),
    hostnames: hostnames?.hostnames,
    routeProblem,
    rules: refProblem === undefined ? [] : [{ action: undefined, matches: [], clusters: [], unusableServices: [], invalid: undefined, refProblem }],
    backends: weighted,
    clusters,
    unusableServices,
  };
}

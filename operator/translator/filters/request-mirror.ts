/** RequestMirror: copies of requests to other backends (several per rule, each with a percentage). */
import { int } from '../read.ts';
import { unsupported, type RouteFilterDefinition } from './filter.ts';

export const requestMirror: RouteFilterDefinition = {
  type: 'RequestMirror',
  places: ['HTTPRoute rule', 'GRPCRoute rule'],
  features: ['HTTPRouteRequestMirror', 'HTTPRouteRequestMultipleMirrors', 'HTTPRouteRequestPercentageMirror'],
  repeatable: true,
  translate(filter, context, output) {
    const raw = filter.requestMirror;
    let percent = 100;
    const { percent: rawPercent, fraction } = raw ?? {};
    if (rawPercent !== undefined) {
      const value = int(rawPercent);
      if (value === undefined || value < 0 || value > 100) return unsupported('mirror percent must be 0–100');
      percent = value;
    } else if (fraction !== undefined) {
      const numerator = int(fraction.numerator);
      const denominator = fraction.denominator === undefined ? 100 : int(fraction.denominator);
      if (numerator === undefined || denominator === undefined || denominator <= 0 || numerator < 0 || numerator > denominator) {
        return unsupported('mirror fraction must satisfy 0 ≤ numerator ≤ denominator, denominator > 0');
      }
      percent = (numerator * 100) / denominator;
    }
    const resolution = context.backends.resolve(context.routeKind, context.namespace, raw?.backendRef, context.use);
    if (resolution.kind !== 'cluster') {
      // Nothing is mirrored to a backend that is invalid or whose BackendTLSPolicy is invalid.
      output.refProblem ??= resolution.problem;
      return undefined;
    }
    output.mirrors.push({ clusterId: resolution.cluster.id, percent });
    output.clusters.push(resolution.cluster);
    return undefined;
  },
};

/** RequestHeaderModifier and ResponseHeaderModifier: one validation, two directions. */
import type { HeaderModifier } from '../../../api-types/dataplane-config.ts';
import type { HTTPHeaderFilter } from '../../../api-types/gateway-api/index.ts';
import type { Problem } from '../conditions.ts';
import { unsupported, type FilterPlace, type RouteFilterDefinition } from './filter.ts';

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;
const EVERYWHERE: readonly FilterPlace[] = ['HTTPRoute rule', 'HTTPRoute backendRef', 'GRPCRoute rule', 'GRPCRoute backendRef'];

export function headerModifier(raw: HTTPHeaderFilter | undefined): HeaderModifier | Problem {
  if (raw === undefined) return unsupported('header modifier filter without its configuration');
  const pairs = (entries: HTTPHeaderFilter['set'] = []): { name: string; value: string }[] | Problem => {
    const out: { name: string; value: string }[] = [];
    for (const { name: headerName, value } of entries) {
      if (!HEADER_NAME.test(headerName)) return unsupported('invalid header in header modifier');
      if (!out.some((existing) => existing.name === headerName.toLowerCase())) out.push({ name: headerName.toLowerCase(), value });
    }
    return out;
  };
  const set = pairs(raw.set);
  const add = pairs(raw.add);
  if ('reason' in set) return set;
  if ('reason' in add) return add;
  const remove: string[] = [];
  for (const entry of raw.remove ?? []) {
    if (!HEADER_NAME.test(entry)) return unsupported('invalid header name in remove');
    if (!remove.includes(entry.toLowerCase())) remove.push(entry.toLowerCase());
  }
  return { set, add, remove };
}

export const requestHeaderModifier: RouteFilterDefinition = {
  type: 'RequestHeaderModifier',
  places: EVERYWHERE,
  features: ['GRPCRouteRequestHeaderModifier', 'HTTPRouteBackendRequestHeaderModification'],
  translate(filter) {
    const modifier = headerModifier(filter.requestHeaderModifier);
    return 'reason' in modifier ? modifier : { requestHeaders: modifier };
  },
};

export const responseHeaderModifier: RouteFilterDefinition = {
  type: 'ResponseHeaderModifier',
  places: EVERYWHERE,
  features: ['HTTPRouteResponseHeaderModification'],
  translate(filter) {
    const modifier = headerModifier(filter.responseHeaderModifier);
    return 'reason' in modifier ? modifier : { responseHeaders: modifier };
  },
};

/** URLRewrite: host and path of the request sent upstream; on HTTPRoute backendRefs too (HTTPRouteBackendURLRewrite). */
import type { UrlRewrite } from '../../../api-types/dataplane-config.ts';
import { normalizeHostname } from '../hostnames.ts';
import { unsupported, type RouteFilterDefinition } from './filter.ts';
import { pathModifier } from './path-modifier.ts';

export const urlRewrite: RouteFilterDefinition = {
  type: 'URLRewrite',
  places: ['HTTPRoute rule', 'HTTPRoute backendRef'],
  features: ['HTTPRouteBackendURLRewrite', 'HTTPRouteHostRewrite', 'HTTPRoutePathRewrite'],
  translate(filter, context) {
    const raw = filter.urlRewrite ?? {};
    const rewrite: { -readonly [K in keyof UrlRewrite]: UrlRewrite[K] } = {};
    const { hostname } = raw;
    if (hostname !== undefined) {
      const normalized = normalizeHostname(hostname);
      if (normalized === undefined || normalized.startsWith('*.')) return unsupported('invalid rewrite hostname');
      rewrite.hostname = normalized;
    }
    const path = pathModifier(raw.path, context.matches);
    if (path !== undefined && 'reason' in path) return path;
    if (path !== undefined) rewrite.path = path;
    return { urlRewrite: rewrite };
  },
};

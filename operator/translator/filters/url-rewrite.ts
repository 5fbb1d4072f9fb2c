/** URLRewrite: host and path of the request sent upstream; on HTTPRoute backendRefs too (HTTPRouteBackendURLRewrite). */
import type { UrlRewrite } from '../../../api-types/dataplane-config.ts';
import type { Problem } from '../conditions.ts';
import type { RouteFilterDefinition } from './filter.ts';
import { hostnameAndPath } from './path-modifier.ts';

export const urlRewrite: RouteFilterDefinition = {
  type: 'URLRewrite',
  places: ['HTTPRoute rule', 'HTTPRoute backendRef'],
  features: ['HTTPRouteBackendURLRewrite', 'HTTPRouteHostRewrite', 'HTTPRoutePathRewrite'],
  translate(filter, context) {
    const rewrite: UrlRewrite | Problem = hostnameAndPath(filter.urlRewrite ?? {}, context.matches, 'rewrite');
    return 'reason' in rewrite ? rewrite : { urlRewrite: rewrite };
  },
};

/** RequestRedirect: the rule answers with a redirect instead of proxying. */
import type { RequestRedirect } from '../../../api-types/dataplane-config.ts';
import { describe, int, isPort } from '../read.ts';
import { unsupported, type RouteFilterDefinition } from './filter.ts';
import { hostnameAndPath } from './path-modifier.ts';

const REDIRECT_CODES = [301, 302, 303, 307, 308] as const;

export const requestRedirect: RouteFilterDefinition = {
  type: 'RequestRedirect',
  places: ['HTTPRoute rule'],
  features: [
    'HTTPRoute303RedirectStatusCode',
    'HTTPRoute307RedirectStatusCode',
    'HTTPRoute308RedirectStatusCode',
    'HTTPRoutePathRedirect',
    'HTTPRoutePortRedirect',
    'HTTPRouteSchemeRedirect',
  ],
  incompatibleWith: ['URLRewrite'],
  translate(filter, context, output) {
    const raw = filter.requestRedirect ?? {};
    const redirect: { -readonly [K in keyof RequestRedirect]: RequestRedirect[K] } = { statusCode: 302 };
    const { scheme } = raw;
    if (scheme !== undefined) {
      if (scheme !== 'http' && scheme !== 'https') return unsupported(`redirect scheme ${describe(scheme)} is not supported`);
      redirect.scheme = scheme;
    }
    const target = hostnameAndPath(raw, context.matches, 'redirect');
    if ('reason' in target) return target;
    if (target.hostname !== undefined) redirect.hostname = target.hostname;
    if (target.path !== undefined) redirect.path = target.path;
    const { port } = raw;
    if (port !== undefined) {
      const value = int(port);
      if (!isPort(value)) return unsupported('invalid redirect port');
      redirect.port = value;
    }
    const { statusCode } = raw;
    if (statusCode !== undefined) {
      const code = REDIRECT_CODES.find((candidate) => candidate === statusCode);
      if (code === undefined) return unsupported(`redirect status code ${describe(statusCode)} is not supported`);
      redirect.statusCode = code;
    }
    output.answersLocally = true;
    return { redirect };
  },
};

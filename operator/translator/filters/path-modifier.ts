/** The hostname and path parts RequestRedirect and URLRewrite share. */
import type { PathModifier, RouteMatch } from '../../../api-types/dataplane-config.ts';
import type { HTTPPathModifier } from '../../../api-types/gateway-api/index.ts';
import type { Problem } from '../conditions.ts';
import { normalizeHostname } from '../hostnames.ts';
import { unsupported } from './filter.ts';

function pathModifier(raw: HTTPPathModifier | undefined, matches: readonly RouteMatch[]): PathModifier | Problem | undefined {
  if (raw === undefined) return undefined;
  const { type } = raw;
  if (type === 'ReplaceFullPath') {
    const value = raw.replaceFullPath;
    if (value === undefined || !value.startsWith('/')) return unsupported('replaceFullPath must be an absolute path');
    return { type, replaceFullPath: value };
  }
  if (type === 'ReplacePrefixMatch') {
    const value = raw.replacePrefixMatch;
    if (value === undefined || !value.startsWith('/')) return unsupported('replacePrefixMatch must be an absolute path');
    if (matches.some((match) => match.path.type !== 'PathPrefix')) return unsupported('ReplacePrefixMatch needs PathPrefix matches only');
    return { type, replacePrefixMatch: value };
  }
  return unsupported(`unknown path modifier type ${type}`);
}

/** A redirect's or rewrite's target host (exact, no wildcard) and path. */
export function hostnameAndPath(raw: { hostname?: string; path?: HTTPPathModifier }, matches: readonly RouteMatch[], what: 'redirect' | 'rewrite'): { hostname?: string; path?: PathModifier } | Problem {
  const out: { hostname?: string; path?: PathModifier } = {};
  if (raw.hostname !== undefined) {
    const normalized = normalizeHostname(raw.hostname);
    if (normalized === undefined || normalized.startsWith('*.')) return unsupported(`invalid ${what} hostname`);
    out.hostname = normalized;
  }
  const path = pathModifier(raw.path, matches);
  if (path !== undefined && 'reason' in path) return path;
  if (path !== undefined) out.path = path;
  return out;
}

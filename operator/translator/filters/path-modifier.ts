/** The path part of RequestRedirect and URLRewrite. */
import type { PathModifier, RouteMatch } from '../../../api-types/dataplane-config.ts';
import type { HTTPPathModifier } from '../../../api-types/gateway-api/index.ts';
import type { Problem } from '../conditions.ts';
import { unsupported } from './filter.ts';

export function pathModifier(raw: HTTPPathModifier | undefined, matches: readonly RouteMatch[]): PathModifier | Problem | undefined {
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

import type { PathModifier } from '../../api-types/dataplane-config.ts';

/**
 * Replaces the matched PathPrefix `prefix` of `path` with `replacement`, on segment boundaries:
 * `/foo` → `/bar` turns `/foo/x` into `/bar/x` and `/foo` into `/bar`; a replacement of `/`
 * turns `/foo/x` into `/x` and `/foo` into `/`.
 */
export function replacePrefix(path: string, prefix: string, replacement: string): string {
  const rest = prefix === '/' ? (path.startsWith('/') ? path.slice(1) : path) : path.slice(prefix.length);
  const base = replacement.endsWith('/') ? replacement.slice(0, -1) : replacement;
  if (rest === '') return base === '' ? '/' : base;
  const joined = rest.startsWith('/') ? base + rest : `${base}/${rest}`;
  return joined.startsWith('/') ? joined : `/${joined}`;
}

/** The new path for a redirect or rewrite; `prefix` is the rule match's PathPrefix, when it has one. */
export function modifyPath(path: string, modifier: PathModifier, prefix: string | undefined): string {
  if (modifier.type === 'ReplaceFullPath') return modifier.replaceFullPath;
  // ReplacePrefixMatch on a rule matched by something other than a prefix: the translator
  // rejects that combination, but if it comes through, keep the path rather than guess.
  return prefix === undefined ? path : replacePrefix(path, prefix, modifier.replacePrefixMatch);
}

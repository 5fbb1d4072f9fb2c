/**
 * Hostname rules of the Gateway API: a wildcard is only a leading `*.` label and matches one
 * or more labels (`*.example.com` matches `a.b.example.com` but not `example.com`).
 */

const LABEL = '[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?';
const HOSTNAME = new RegExp(`^(\\*\\.)?${LABEL}(\\.${LABEL})*$`);
const IPV4 = /^[0-9.]+$/;

/** Lower-cases and validates; `undefined` for an invalid hostname (IPs are not hostnames). */
export function normalizeHostname(value: string): string | undefined {
  const lower = value.toLowerCase();
  if (lower.length === 0 || lower.length > 253 || !HOSTNAME.test(lower) || IPV4.test(lower)) return undefined;
  return lower;
}

export function isWildcard(hostname: string): boolean {
  return hostname.startsWith('*.');
}

/** Whether `pattern` (possibly a wildcard) covers every name `candidate` (possibly a wildcard) covers. */
export function covers(pattern: string, candidate: string): boolean {
  if (!isWildcard(pattern)) return pattern === candidate;
  const suffix = pattern.slice(1); // ".example.com"
  return candidate.endsWith(suffix) && candidate.length > suffix.length;
}

/**
 * The hostnames a route serves on a listener. `undefined` when they do not intersect; an empty
 * array when both sides accept any host.
 */
export function intersectHostnames(listenerHostname: string | undefined, routeHostnames: readonly string[]): string[] | undefined {
  if (routeHostnames.length === 0) return listenerHostname === undefined ? [] : [listenerHostname];
  if (listenerHostname === undefined) return [...routeHostnames];
  if (routeHostnames.length === 1) {
    const only = routeHostnames[0] ?? '';
    return covers(listenerHostname, only) ? [only] : covers(only, listenerHostname) ? [listenerHostname] : undefined;
  }
  const result = new Set<string>();
  for (const routeHostname of routeHostnames) {
    if (covers(listenerHostname, routeHostname)) result.add(routeHostname);
    else if (covers(routeHostname, listenerHostname)) result.add(listenerHostname);
  }
  return result.size === 0 ? undefined : [...result].sort();
}

/**
 * Request → rule: pick the listener on the port by Host (most specific listener hostname wins,
 * and a request never crosses into another listener's routes), then the route hostname buckets
 * from most to least specific, then the path table of each bucket until one matches.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { CompiledListener, CompiledPort, RouteTarget } from './compile.ts';
import type { PathTable } from './router.ts';


const buckets: PathTable<RouteTarget>[] = [];

export function resolveListener(port: CompiledPort | undefined, host: string): CompiledListener | undefined {
  return port?.listeners.lookup(host);
}

export function resolveRoute(
  listener: CompiledListener,
  host: string,
  method: string,
  path: string,
  query: string,
  headers: IncomingHttpHeaders,
): RouteTarget | undefined {
  const count = listener.hosts.matchesInto(host, buckets);
  for (let i = 0; i < count; i++) {
    const candidate = (buckets[i] as PathTable<RouteTarget>).lookup(method, path, query, headers);
    if (candidate !== undefined) return candidate.value;
  }
  return undefined;
}

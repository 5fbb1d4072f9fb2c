/**
 * GatewayRouteHostnameIntersectionPrecedence: when several routes reach the same listener
 * hostname, the route whose own hostname is more specific wins, whatever the intersection.
 *
 * The dataplane picks a listener by Host/SNI first and only ever shows a listener's routes the
 * hosts that listener accepts; within it, route hostname buckets go exact first, then wildcards
 * from the longest suffix, then routes without hostnames. So a route is placed under its own
 * hostnames (those that intersect the listener's) rather than under the intersection: a
 * `*.example.com` route on an `abc.example.com` listener still only sees `abc.example.com`
 * requests, but now ranks below an `abc.example.com` route, as the spec says it should.
 */
import { covers } from './hostnames.ts';

/** The buckets a route's rules go into on a listener; empty means the least specific (any host). */
export function precedenceHostnames(listenerHostname: string | undefined, routeHostnames: readonly string[] | undefined): string[] {
  if (routeHostnames === undefined || routeHostnames.length === 0) return [];
  if (listenerHostname === undefined) return [...routeHostnames];
  return routeHostnames.filter((hostname) => covers(listenerHostname, hostname) || covers(hostname, listenerHostname));
}

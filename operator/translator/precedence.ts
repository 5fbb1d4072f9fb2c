/**
 * The spec's match precedence within a listener (hostnames are narrowed by the dataplane first):
 * Exact path, then RegularExpression (longer pattern first — Weir's choice, the spec leaves it
 * open), then the longest PathPrefix; then a method match; then more header matches; then more
 * query matches; then the oldest route; then namespace/name; then rule order, then match order.
 *
 * Sorting thousands of matches per listener is the translator's hot spot, so the comparison
 * uses only numbers: `routeOrder` is the route's rank by age, then namespace/name, computed once.
 */
import type { RouteMatch } from '../../api-types/dataplane-config.ts';

export interface RankedMatch {
  readonly match: RouteMatch;
  /** Position of the route when all routes are sorted oldest first, then by namespace/name. */
  readonly routeOrder: number;
  readonly ruleIndex: number;
  readonly matchIndex: number;
}

const PATH_TYPE_RANK: Readonly<Record<RouteMatch['path']['type'], number>> = { Exact: 0, RegularExpression: 1, PathPrefix: 2 };

function compare(a: RankedMatch, b: RankedMatch): number {
  const x = a.match;
  const y = b.match;
  return (
    PATH_TYPE_RANK[x.path.type] - PATH_TYPE_RANK[y.path.type] ||
    y.path.value.length - x.path.value.length ||
    (x.method === undefined ? 1 : 0) - (y.method === undefined ? 1 : 0) ||
    y.headers.length - x.headers.length ||
    y.queryParams.length - x.queryParams.length ||
    a.routeOrder - b.routeOrder ||
    a.ruleIndex - b.ruleIndex ||
    a.matchIndex - b.matchIndex
  );
}

/** Sorts into precedence order (a new array). */
export function sortByPrecedence<T extends RankedMatch>(matches: readonly T[]): T[] {
  return [...matches].sort(compare);
}

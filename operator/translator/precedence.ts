/**
 * The spec's match precedence within a listener (hostnames are narrowed by the dataplane first):
 * Exact path, then RegularExpression (longer pattern first — Weir's choice, the spec leaves it
 * open), then the longest PathPrefix; then a method match; then more header matches; then more
 * query matches; then the oldest route; then namespace/name; then rule order, then match order.
 */
import type { RouteMatch } from '../../api-types/dataplane-config.ts';
import { compareByAge, type Meta } from './meta.ts';

export interface RankedMatch {
  readonly match: RouteMatch;
  readonly route: Meta;
  readonly ruleIndex: number;
  readonly matchIndex: number;
}

const PATH_TYPE_RANK: Readonly<Record<RouteMatch['path']['type'], number>> = { Exact: 0, RegularExpression: 1, PathPrefix: 2 };

export function compareMatches(a: RankedMatch, b: RankedMatch): number {
  const pathA = a.match.path;
  const pathB = b.match.path;
  return (
    PATH_TYPE_RANK[pathA.type] - PATH_TYPE_RANK[pathB.type] ||
    pathB.value.length - pathA.value.length ||
    Number(b.match.method !== undefined) - Number(a.match.method !== undefined) ||
    b.match.headers.length - a.match.headers.length ||
    b.match.queryParams.length - a.match.queryParams.length ||
    compareByAge(a.route, b.route) ||
    a.ruleIndex - b.ruleIndex ||
    a.matchIndex - b.matchIndex
  );
}

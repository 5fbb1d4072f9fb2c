/**
 * The spec's match precedence within a listener (hostnames are narrowed by the dataplane first):
 * Exact path, then RegularExpression (longer pattern first — Weir's choice, the spec leaves it
 * open), then the longest PathPrefix; then a method match; then more header matches; then more
 * query matches; then the oldest route; then namespace/name; then rule order, then match order.
 *
 * Sorting tens of thousands of matches per listener is the translator's hot spot, so everything
 * about the match itself is folded into one number (`specificity`, computed once per match), and
 * the rest of the order is the order in which the translator adds matches (`precedenceOrder`).
 */
import type { RouteMatch } from '../../api-types/dataplane-config.ts';

const PATH_TYPE_RANK: Readonly<Record<RouteMatch['path']['type'], number>> = { Exact: 0, RegularExpression: 1, PathPrefix: 2 };
// Field widths of the packed key (2 + 20 + 1 + 10 + 10 = 43 bits, exact in a double). Paths are at
// most 1024 characters (gRPC patterns a few thousand) and the CRDs allow 16 header and 16 query
// matches, so the clamps only bite on input that bypassed validation, where ties are harmless.
const LENGTH_MAX = 2 ** 20 - 1;
const COUNT_MAX = 2 ** 10 - 1;

/** One number that orders matches by path type, path length, method, header and query counts. */
export function specificity(match: RouteMatch): number {
  const pathLength = Math.min(match.path.value.length, LENGTH_MAX);
  const headers = Math.min(match.headers.length, COUNT_MAX);
  const queries = Math.min(match.queryParams.length, COUNT_MAX);
  let key = PATH_TYPE_RANK[match.path.type];
  key = key * (LENGTH_MAX + 1) + (LENGTH_MAX - pathLength);
  key = key * 2 + (match.method === undefined ? 1 : 0);
  key = key * (COUNT_MAX + 1) + (COUNT_MAX - headers);
  return key * (COUNT_MAX + 1) + (COUNT_MAX - queries);
}

/**
 * The precedence order of matches given their `specificity` keys in insertion order, where
 * insertion order already is the order of the remaining tie-breakers (oldest route, then
 * namespace/name, then rule, then match): positions into `keys`, most specific first.
 * Sorting small integers keeps the hot sort free of per-match wrapper objects.
 */
export function precedenceOrder(keys: readonly number[]): number[] {
  const order = Array.from(keys.keys());
  return order.sort((a, b) => (keys[a] ?? 0) - (keys[b] ?? 0) || a - b);
}

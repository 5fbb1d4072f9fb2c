/**
 * Path-level match tables for one hostname bucket of one listener.
 *
 * Candidates are indexed by their path so a lookup only inspects the rules whose path could
 * match: an exact-path map, a map from canonical PathPrefix (segments joined by `/`, no empty
 * segments) to its candidates, probed at the request path's segment boundaries deepest first,
 * and the list of RegularExpression paths. Within each index the candidates keep the translator's
 * precedence order (`order`), and the winner is the matching candidate with the lowest order,
 * so the result is exactly "first matching rule in precedence order" without scanning them all.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { HeaderMatch, QueryParamMatch, RouteMatch } from '../api-types/dataplane-config.ts';
import { compileRouteRegex, type RouteRegex } from '../api-types/route-regex.ts';

interface ValueMatch {
  readonly name: string;
  /** Set for Exact matches. */
  readonly exact: string | undefined;
  /** Set for RegularExpression matches (the whole value must match). */
  readonly regex: RouteRegex | undefined;
}

export interface RouteCandidate<T> {
  /** Position in the listener's precedence order; lower wins. */
  readonly order: number;
  readonly method: string | undefined;
  readonly headers: readonly ValueMatch[];
  readonly query: readonly ValueMatch[];
  readonly pathRegex: RouteRegex | undefined;
  readonly value: T;
  /** The next candidate for the same path, in ascending order (a list without an array hop). */
  next: RouteCandidate<T> | undefined;
}

/** Shared by every candidate without header or query conditions (no per-candidate empty arrays). */
const NONE: readonly ValueMatch[] = [];

/** Compiles a route regex (see api-types/route-regex.ts); throws with a readable message when unsupported. */
export function fullMatchRegex(pattern: string, what: string): RouteRegex {
  const compiled = compileRouteRegex(pattern);
  if (!compiled.ok) throw new Error(`invalid ${what} regular expression ${JSON.stringify(pattern)}: ${compiled.error}`);
  return compiled.regex;
}

function compileValueMatch(match: HeaderMatch | QueryParamMatch, what: string): ValueMatch {
  return match.type === 'Exact'
    ? { name: match.name, exact: match.value, regex: undefined }
    : { name: match.name, exact: undefined, regex: fullMatchRegex(match.value, what) };
}

/** `/a//b/` → `/a/b`, `/` → `` : what `PathPrefix` matches, segment by segment. */
function canonicalPrefix(prefix: string): string {
  let key = '';
  for (const segment of prefix.split('/')) if (segment !== '') key += `/${segment}`;
  return key;
}

// Reused between lookups (lookups are synchronous) to avoid an allocation per request.
let parsedQueryString: string | undefined;
let parsedQuery: URLSearchParams | undefined;

function queryParams(query: string): URLSearchParams {
  if (parsedQueryString !== query || parsedQuery === undefined) {
    parsedQuery = new URLSearchParams(query);
    parsedQueryString = query;
  }
  return parsedQuery;
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function valueMatches(match: ValueMatch, value: string | null | undefined): boolean {
  if (value === undefined || value === null) return false;
  return match.exact !== undefined ? match.exact === value : match.regex !== undefined && match.regex.test(value);
}

function candidateMatches<T>(
  candidate: RouteCandidate<T>,
  method: string,
  path: string,
  query: string,
  headers: IncomingHttpHeaders,
): boolean {
  if (candidate.method !== undefined && candidate.method !== method) return false;
  if (candidate.pathRegex !== undefined && !candidate.pathRegex.test(path)) return false;
  for (const match of candidate.headers) {
    if (!valueMatches(match, headerValue(headers, match.name))) return false;
  }
  if (candidate.query.length > 0) {
    const params = queryParams(query);
    for (const match of candidate.query) {
      if (!valueMatches(match, params.get(match.name))) return false;
    }
  }
  return true;
}

export class PathTable<T> {
  private readonly exact = new Map<string, RouteCandidate<T>>();
  /** Keyed by `canonicalPrefix`; the `/` prefix is `rootPrefix`. */
  private readonly prefixes = new Map<string, RouteCandidate<T>>();
  private rootPrefix: RouteCandidate<T> | undefined;
  /**
   * `prefixLengths[n] === 1` when some prefix key is n characters long: a lookup probes the map
   * only at segment boundaries where a prefix can end, instead of once per request segment.
   */
  private prefixLengths = new Uint8Array(0);
  private regexes: RouteCandidate<T> | undefined;
  /** Lowest `order` among prefix and regex candidates: an exact winner below it ends the lookup. */
  private firstNonExactOrder = Infinity;

  /** Adds one (rule, match) pair. Candidates must be added in ascending `order`. */
  add(match: RouteMatch, order: number, value: T): void {
    const candidate: RouteCandidate<T> = {
      order,
      method: match.method,
      headers: match.headers.length === 0 ? NONE : match.headers.map((header) => compileValueMatch(header, 'header')),
      query: match.queryParams.length === 0 ? NONE : match.queryParams.map((param) => compileValueMatch(param, 'query parameter')),
      pathRegex: match.path.type === 'RegularExpression' ? fullMatchRegex(match.path.value, 'path') : undefined,
      value,
      next: undefined,
    };
    switch (match.path.type) {
      case 'Exact':
        append(this.exact, match.path.value, candidate);
        break;
      case 'PathPrefix': {
        const key = canonicalPrefix(match.path.value);
        if (key === '') {
          this.rootPrefix = appended(this.rootPrefix, candidate);
        } else {
          append(this.prefixes, key, candidate);
          if (key.length >= this.prefixLengths.length) {
            const grown = new Uint8Array(key.length + 1);
            grown.set(this.prefixLengths);
            this.prefixLengths = grown;
          }
          this.prefixLengths[key.length] = 1;
        }
        this.firstNonExactOrder = Math.min(this.firstNonExactOrder, order);
        break;
      }
      case 'RegularExpression':
        this.regexes = appended(this.regexes, candidate);
        this.firstNonExactOrder = Math.min(this.firstNonExactOrder, order);
        break;
    }
  }

  /** The highest-precedence candidate matching the request, if any. `path` excludes the query. */
  lookup(method: string, path: string, query: string, headers: IncomingHttpHeaders): RouteCandidate<T> | undefined {
    let best: RouteCandidate<T> | undefined;
    const exact = this.exact.get(path);
    if (exact !== undefined) {
      best = firstMatch(exact, best, method, path, query, headers);
      if (best !== undefined && best.order < this.firstNonExactOrder) return best;
    }

    // Prefixes end at a segment boundary: before each '/' after the first character, and at the
    // end. Longest first. A request segment that is empty ('//') matches no longer prefix,
    // because keys have no empty segments.
    const lengths = this.prefixLengths;
    if (lengths.length > 0) {
      const slashed = path.charCodeAt(0) === 47; /* / */
      // A backward charCodeAt scan: String.prototype.lastIndexOf is a runtime call in V8, several
      // times the cost of the whole probe.
      for (let end = path.length; end > 0; end--) {
        if (end < path.length && path.charCodeAt(end) !== 47 /* / */) continue;
        const keyLength = slashed ? end : end + 1;
        if (keyLength >= lengths.length || lengths[keyLength] === 0) continue;
        const candidates = this.prefixes.get(slashed ? path.slice(0, end) : `/${path.slice(0, end)}`);
        if (candidates !== undefined) best = firstMatch(candidates, best, method, path, query, headers);
      }
    }
    if (this.rootPrefix !== undefined) best = firstMatch(this.rootPrefix, best, method, path, query, headers);

    if (this.regexes !== undefined) best = firstMatch(this.regexes, best, method, path, query, headers);
    return best;
  }
}

/** Each list's last candidate, by its first, so appending stays O(1) for long lists. */
const tails = new WeakMap<RouteCandidate<unknown>, RouteCandidate<unknown>>();

/** `list` with `candidate` at its end (candidates arrive in ascending order). */
function appended<T>(list: RouteCandidate<T> | undefined, candidate: RouteCandidate<T>): RouteCandidate<T> {
  if (list === undefined) {
    tails.set(candidate, candidate);
    return candidate;
  }
  const tail = (tails.get(list) ?? list) as RouteCandidate<T>;
  tail.next = candidate;
  tails.set(list, candidate);
  return list;
}

function append<T>(map: Map<string, RouteCandidate<T>>, key: string, candidate: RouteCandidate<T>): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, candidate);
  else appended(list, candidate);
}

function firstMatch<T>(
  candidates: RouteCandidate<T>,
  best: RouteCandidate<T> | undefined,
  method: string,
  path: string,
  query: string,
  headers: IncomingHttpHeaders,
): RouteCandidate<T> | undefined {
  const limit = best === undefined ? Infinity : best.order;
  for (let candidate: RouteCandidate<T> | undefined = candidates; candidate !== undefined; candidate = candidate.next) {
    if (candidate.order >= limit) return best;
    if (candidateMatches(candidate, method, path, query, headers)) return candidate;
  }
  return best;
}

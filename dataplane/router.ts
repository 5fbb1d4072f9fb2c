/**
 * Path-level match tables for one hostname bucket of one listener.
 *
 * Candidates are indexed by their path so a lookup only inspects the rules whose path could
 * match: an exact-path map, a segment trie for PathPrefix (walked once, deepest node first) and
 * the list of RegularExpression paths. Within each index the candidates keep the translator's
 * precedence order (`order`), and the winner is the matching candidate with the lowest order,
 * so the result is exactly "first matching rule in precedence order" without scanning them all.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { HeaderMatch, QueryParamMatch, RouteMatch } from '../api-types/dataplane-config.ts';

interface ValueMatch {
  readonly name: string;
  /** Set for Exact matches. */
  readonly exact: string | undefined;
  /** Set for RegularExpression matches (anchored: the whole value must match). */
  readonly regex: RegExp | undefined;
}

export interface RouteCandidate<T> {
  /** Position in the listener's precedence order; lower wins. */
  readonly order: number;
  readonly method: string | undefined;
  readonly headers: readonly ValueMatch[];
  readonly query: readonly ValueMatch[];
  readonly pathRegex: RegExp | undefined;
  readonly value: T;
}

interface PrefixNode<T> {
  readonly children: Map<string, PrefixNode<T>>;
  readonly candidates: RouteCandidate<T>[];
}

/** Compiles a full-match regular expression; throws with a readable message when invalid. */
export function fullMatchRegex(pattern: string, what: string): RegExp {
  try {
    return new RegExp(`^(?:${pattern})$`);
  } catch (error) {
    throw new Error(`invalid ${what} regular expression ${JSON.stringify(pattern)}: ${(error as Error).message}`, { cause: error });
  }
}

function compileValueMatch(match: HeaderMatch | QueryParamMatch, what: string): ValueMatch {
  return match.type === 'Exact'
    ? { name: match.name, exact: match.value, regex: undefined }
    : { name: match.name, exact: undefined, regex: fullMatchRegex(match.value, what) };
}

function newNode<T>(): PrefixNode<T> {
  return { children: new Map(), candidates: [] };
}

// Reused between lookups (lookups are synchronous) to avoid an allocation per request.
const trail: PrefixNode<unknown>[] = [];
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
  private readonly exact = new Map<string, RouteCandidate<T>[]>();
  private readonly root: PrefixNode<T> = newNode();
  private readonly regexes: RouteCandidate<T>[] = [];

  /** Adds one (rule, match) pair. Candidates must be added in ascending `order`. */
  add(match: RouteMatch, order: number, value: T): void {
    const candidate: RouteCandidate<T> = {
      order,
      method: match.method,
      headers: match.headers.map((header) => compileValueMatch(header, 'header')),
      query: match.queryParams.map((param) => compileValueMatch(param, 'query parameter')),
      pathRegex: match.path.type === 'RegularExpression' ? fullMatchRegex(match.path.value, 'path') : undefined,
      value,
    };
    switch (match.path.type) {
      case 'Exact': {
        let list = this.exact.get(match.path.value);
        if (list === undefined) {
          list = [];
          this.exact.set(match.path.value, list);
        }
        list.push(candidate);
        break;
      }
      case 'PathPrefix':
        this.prefixNode(match.path.value).candidates.push(candidate);
        break;
      case 'RegularExpression':
        this.regexes.push(candidate);
        break;
    }
  }

  private prefixNode(prefix: string): PrefixNode<T> {
    let node = this.root;
    for (const segment of prefix.split('/')) {
      if (segment === '') continue;
      let child = node.children.get(segment);
      if (child === undefined) {
        child = newNode();
        node.children.set(segment, child);
      }
      node = child;
    }
    return node;
  }

  /** The highest-precedence candidate matching the request, if any. `path` excludes the query. */
  lookup(method: string, path: string, query: string, headers: IncomingHttpHeaders): RouteCandidate<T> | undefined {
    let best: RouteCandidate<T> | undefined;
    const exact = this.exact.get(path);
    if (exact !== undefined) best = firstMatch(exact, best, method, path, query, headers);

    // Collect the trie nodes along the path, then try the deepest (longest prefix) first.
    let depth = 0;
    let node: PrefixNode<T> | undefined = this.root;
    trail[depth++] = node;
    let start = path.charCodeAt(0) === 47 /* / */ ? 1 : 0;
    while (start <= path.length) {
      const slash = path.indexOf('/', start);
      const end = slash === -1 ? path.length : slash;
      node = node.children.size === 0 ? undefined : node.children.get(path.slice(start, end));
      if (node === undefined) break;
      trail[depth++] = node;
      if (slash === -1) break;
      start = slash + 1;
    }
    while (depth > 0) {
      const candidates = (trail[--depth] as PrefixNode<T>).candidates;
      if (candidates.length > 0) best = firstMatch(candidates, best, method, path, query, headers);
    }

    if (this.regexes.length > 0) best = firstMatch(this.regexes, best, method, path, query, headers);
    return best;
  }
}

function firstMatch<T>(
  candidates: readonly RouteCandidate<T>[],
  best: RouteCandidate<T> | undefined,
  method: string,
  path: string,
  query: string,
  headers: IncomingHttpHeaders,
): RouteCandidate<T> | undefined {
  const limit = best === undefined ? Infinity : best.order;
  for (const candidate of candidates) {
    if (candidate.order >= limit) return best;
    if (candidateMatches(candidate, method, path, query, headers)) return candidate;
  }
  return best;
}

/**
 * The one regular-expression dialect of route matches (HTTPRoute path, header and query
 * `RegularExpression` matches; GRPCRoute method regexes): RE2 syntax, matched against the whole
 * value, on a linear-time engine (re2js, a JavaScript port of RE2). The translator validates
 * patterns with `compileRouteRegex` and the dataplane compiles them with it, so a pattern the
 * operator accepts is exactly one the dataplane runs. See docs/adr/0004-route-regex-engine.md.
 */
import { RE2JS } from 're2js';

/**
 * Largest compiled program (RE2 instructions) a route regex may have. Matching costs at most
 * about `value length × program size` steps, so this bounds the work one request can cause;
 * 100 is what Envoy rejects above by default, and ordinary route patterns need far less
 * (`/api/v[0-9]+/users/[0-9a-f-]{36}` is about 50).
 */
export const MAX_ROUTE_REGEX_PROGRAM_SIZE = 100;

/** A compiled route regex; `test` is true when the whole value matches. */
export interface RouteRegex {
  readonly source: string;
  test(value: string): boolean;
}

export type RouteRegexResult = { readonly ok: true; readonly regex: RouteRegex } | { readonly ok: false; readonly error: string };

class Re2RouteRegex implements RouteRegex {
  readonly source: string;
  readonly #compiled: RE2JS;

  constructor(source: string, compiled: RE2JS) {
    this.source = source;
    this.#compiled = compiled;
  }

  test(value: string): boolean {
    // The matcher runs RE2's NFA/bit-state engines, whose cost per character is bounded by the
    // program size. `testExact` would use re2js's lazy DFA, which on inputs that keep creating
    // states is several times slower than the NFA (still linear, but it is the worst case that
    // matters against hostile input).
    return this.#compiled.matcher(value).matches();
  }
}

/** Compiles `pattern` for full-value matching, or says why it is not a supported route regex. */
export function compileRouteRegex(pattern: string): RouteRegexResult {
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(pattern);
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
  const size = compiled.programSize();
  if (size > MAX_ROUTE_REGEX_PROGRAM_SIZE) {
    return { ok: false, error: `pattern too complex (program size ${size}, at most ${MAX_ROUTE_REGEX_PROGRAM_SIZE})` };
  }
  return { ok: true, regex: new Re2RouteRegex(pattern, compiled) };
}

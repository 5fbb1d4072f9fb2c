/**
 * Hostname tables: exact names, `*.` wildcards (suffix match over one or more labels, longest
 * suffix wins) and a catch-all. Lookup cost depends on the number of labels in the request's
 * host, never on how many hostnames the table holds.
 */
export class HostTable<T> {
  private readonly exact = new Map<string, T>();
  /** Keyed by the wildcard without its `*`, e.g. `.example.com`. */
  private readonly wildcards = new Map<string, T>();
  private catchAll: T | undefined;

  /** The entry for `hostname` (`undefined` = every host), created on first use. */
  entry(hostname: string | undefined, create: () => T): T {
    if (hostname === undefined || hostname === '*') {
      this.catchAll ??= create();
      return this.catchAll;
    }
    const table = hostname.startsWith('*.') ? this.wildcards : this.exact;
    const key = hostname.startsWith('*.') ? hostname.slice(1) : hostname;
    let value = table.get(key);
    if (value === undefined) {
      value = create();
      table.set(key, value);
    }
    return value;
  }

  /** `host` must already be normalised (lower-case, no port, see `hostOf`). */
  lookup(host: string): T | undefined {
    const exact = this.exact.get(host);
    if (exact !== undefined) return exact;
    if (this.wildcards.size > 0) {
      // The first dot gives the longest suffix, so the most specific wildcard is tried first.
      for (let dot = host.indexOf('.', 1); dot !== -1; dot = host.indexOf('.', dot + 1)) {
        const wildcard = this.wildcards.get(host.slice(dot));
        if (wildcard !== undefined) return wildcard;
      }
    }
    return this.catchAll;
  }

  /**
   * Every entry matching `host`, most specific first (exact, wildcards from the longest suffix,
   * catch-all), written into `out`; returns how many. `out` is caller-owned scratch space.
   */
  matchesInto(host: string, out: T[]): number {
    let count = 0;
    const exact = this.exact.get(host);
    if (exact !== undefined) out[count++] = exact;
    if (this.wildcards.size > 0) {
      for (let dot = host.indexOf('.', 1); dot !== -1; dot = host.indexOf('.', dot + 1)) {
        const wildcard = this.wildcards.get(host.slice(dot));
        if (wildcard !== undefined) out[count++] = wildcard;
      }
    }
    if (this.catchAll !== undefined) out[count++] = this.catchAll;
    return count;
  }

  *values(): Generator<T> {
    yield* this.exact.values();
    yield* this.wildcards.values();
    if (this.catchAll !== undefined) yield this.catchAll;
  }
}

/** The host part of a Host header / :authority, lower-cased, without port; '' when absent. */
export function hostOf(authority: string | undefined): string {
  if (authority === undefined || authority === '') return '';
  let end = authority.length;
  if (authority.charCodeAt(0) === 91 /* [ */) {
    const close = authority.indexOf(']');
    end = close === -1 ? end : close + 1;
  } else {
    const colon = authority.lastIndexOf(':');
    if (colon !== -1) end = colon;
  }
  let host = end === authority.length ? authority : authority.slice(0, end);
  if (host.charCodeAt(host.length - 1) === 46 /* trailing dot */) host = host.slice(0, -1);
  // V8 returns the same string when nothing changes, so this costs no allocation for the usual lower-case host.
  return host.toLowerCase();
}

/**
 * `hostOf` for a value taken from a request: undefined when it is not `host[:port]` (RFC 3986
 * §3.2.2: a reg-name of letters, digits, `-`, `.`, `_`, `~`, or a bracketed IP literal; the port
 * digits only). Userinfo, paths, spaces and other characters make the request malformed.
 */
export function validAuthorityHost(authority: string): string | undefined {
  let hostEnd = authority.length;
  if (authority.charCodeAt(0) === 91 /* [ */) {
    const close = authority.indexOf(']');
    if (close === -1) return undefined;
    for (let i = 1; i < close; i++) if (!isIpLiteralChar(authority.charCodeAt(i))) return undefined;
    hostEnd = close + 1;
    if (hostEnd < authority.length && authority.charCodeAt(hostEnd) !== 58 /* : */) return undefined;
  } else {
    const colon = authority.indexOf(':');
    if (colon !== -1) hostEnd = colon;
    for (let i = 0; i < hostEnd; i++) if (!isRegNameChar(authority.charCodeAt(i))) return undefined;
  }
  for (let i = hostEnd + 1; i < authority.length; i++) {
    const code = authority.charCodeAt(i);
    if (code < 0x30 || code > 0x39) return undefined;
  }
  return hostOf(authority);
}

function isRegNameChar(code: number): boolean {
  return (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a) || (code >= 0x30 && code <= 0x39) || code === 0x2d || code === 0x2e || code === 0x5f || code === 0x7e;
}

function isIpLiteralChar(code: number): boolean {
  return (code >= 0x30 && code <= 0x3a) || (code >= 0x61 && code <= 0x66) || (code >= 0x41 && code <= 0x46) || code === 0x2e;
}

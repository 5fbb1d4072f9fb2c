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

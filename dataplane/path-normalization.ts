/**
 * Request-path normalisation, applied before matching so that the path a route matched is the
 * path the backend receives (RFC 3986 §6.2.2): percent-encoded unreserved characters are decoded
 * and other escapes get upper-case hex, dot-segments are removed (§5.2.4), and runs of `/` are
 * optionally merged. `%2F`, `%5C` and a raw `\` follow `PathPolicy.escapedSlashes`, since
 * backends disagree on whether they separate segments. `%00` and malformed escapes are refused.
 *
 * Only one decoding pass is made: `%252e` stays `%252e` (an escaped `%` and two letters), never a dot.
 */
import { DEFAULT_PATH_POLICY, type PathPolicy } from '../api-types/dataplane-config.ts';

const PERCENT = 0x25;
const SLASH = 0x2f;
const BACKSLASH = 0x5c;
const HEX_DIGITS = '0123456789ABCDEF';

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

/** RFC 3986 §2.3: ALPHA / DIGIT / "-" / "." / "_" / "~". */
function isUnreserved(byte: number): boolean {
  return (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39) || byte === 0x2d || byte === 0x2e || byte === 0x5f || byte === 0x7e;
}

/** True when `path` cannot change under normalisation (the common case, checked without allocating). */
function alreadyNormal(path: string, policy: PathPolicy): boolean {
  return path.indexOf('%') === -1 && path.indexOf('\\') === -1 && path.indexOf('/.') === -1 && !(policy.mergeSlashes && path.indexOf('//') !== -1);
}

/**
 * The normalised form of `path` (which starts with `/` and has no query), or undefined when it
 * must be refused with 400.
 */
export function normalizePath(path: string, policy: PathPolicy = DEFAULT_PATH_POLICY): string | undefined {
  if (alreadyNormal(path, policy)) return path;
  const decoded = decodeEscapes(path, policy.escapedSlashes);
  return decoded === undefined ? undefined : removeDotSegments(decoded, policy.mergeSlashes);
}

function decodeEscapes(path: string, escapedSlashes: PathPolicy['escapedSlashes']): string | undefined {
  let out = '';
  let copied = 0;
  for (let i = 0; i < path.length; i++) {
    const code = path.charCodeAt(i);
    if (code === BACKSLASH) {
      if (escapedSlashes === 'Reject') return undefined;
      if (escapedSlashes === 'Decode') {
        out += `${path.slice(copied, i)}/`;
        copied = i + 1;
      }
      continue;
    }
    if (code !== PERCENT) continue;
    const high = hexValue(path.charCodeAt(i + 1));
    const low = hexValue(path.charCodeAt(i + 2));
    if (high === -1 || low === -1) return undefined;
    const byte = high * 16 + low;
    if (byte === 0) return undefined;
    let replacement: string;
    if (isUnreserved(byte)) replacement = String.fromCharCode(byte);
    else if (byte === SLASH || byte === BACKSLASH) {
      if (escapedSlashes === 'Reject') return undefined;
      replacement = escapedSlashes === 'Decode' ? '/' : `%${HEX_DIGITS[high] as string}${HEX_DIGITS[low] as string}`;
    } else replacement = `%${HEX_DIGITS[high] as string}${HEX_DIGITS[low] as string}`;
    out += path.slice(copied, i) + replacement;
    copied = i + 3;
    i += 2;
  }
  return copied === 0 ? path : out + path.slice(copied);
}

/** RFC 3986 §5.2.4 for an absolute path; empty segments are dropped when `mergeSlashes`. */
function removeDotSegments(path: string, mergeSlashes: boolean): string {
  const segments = path.split('/');
  const out: string[] = [];
  const last = segments.length - 1;
  // segments[0] is the empty string before the leading `/`.
  for (let i = 1; i <= last; i++) {
    const segment = segments[i] as string;
    if (segment === '.' || segment === '..') {
      if (segment === '..') out.pop();
      // A trailing dot-segment leaves the path ending in `/` (`/a/b/..` → `/a/`).
      if (i === last) out.push('');
      continue;
    }
    if (segment === '' && mergeSlashes && i !== last) continue;
    out.push(segment);
  }
  return `/${out.join('/')}`;
}

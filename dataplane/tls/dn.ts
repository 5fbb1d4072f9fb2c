/**
 * Distinguished names printed the way OpenSSL/BoringSSL print them with `XN_FLAG_RFC2253`, which
 * is what Envoy puts in the `Subject` of x-forwarded-client-cert: RDNs in reverse order joined by
 * `,`, multi-valued RDNs joined by `+`, short attribute names, RFC 2253 escaping, bytes above
 * 0x7f and control characters as `\XX`, and unknown attribute types or value types as `#` plus
 * the hex of the value's DER.
 */
import type { NameAttribute, Rdn } from './der.ts';

/** Short names OpenSSL/BoringSSL use for the attribute types seen in certificates. */
const SHORT_NAMES: ReadonlyMap<string, string> = new Map([
  ['2.5.4.3', 'CN'],
  ['2.5.4.4', 'SN'],
  ['2.5.4.5', 'serialNumber'],
  ['2.5.4.6', 'C'],
  ['2.5.4.7', 'L'],
  ['2.5.4.8', 'ST'],
  ['2.5.4.9', 'street'],
  ['2.5.4.10', 'O'],
  ['2.5.4.11', 'OU'],
  ['2.5.4.12', 'title'],
  ['2.5.4.13', 'description'],
  ['2.5.4.15', 'businessCategory'],
  ['2.5.4.17', 'postalCode'],
  ['2.5.4.41', 'name'],
  ['2.5.4.42', 'GN'],
  ['2.5.4.43', 'initials'],
  ['2.5.4.44', 'generationQualifier'],
  ['2.5.4.45', 'x500UniqueIdentifier'],
  ['2.5.4.46', 'dnQualifier'],
  ['2.5.4.65', 'pseudonym'],
  ['2.5.4.97', 'organizationIdentifier'],
  ['1.2.840.113549.1.9.1', 'emailAddress'],
  ['0.9.2342.19200300.100.1.1', 'UID'],
  ['0.9.2342.19200300.100.1.25', 'DC'],
  ['1.3.6.1.4.1.311.60.2.1.1', 'jurisdictionL'],
  ['1.3.6.1.4.1.311.60.2.1.2', 'jurisdictionST'],
  ['1.3.6.1.4.1.311.60.2.1.3', 'jurisdictionC'],
]);

/** Bytes per character of the ASN.1 string types OpenSSL prints as text; others are dumped. */
function bytesPerChar(tag: number): number | undefined {
  switch (tag) {
    case 0x0c: return 0; // UTF8String
    case 0x12: // NumericString
    case 0x13: // PrintableString
    case 0x14: // T61String
    case 0x16: // IA5String
    case 0x17: // UTCTime
    case 0x18: // GeneralizedTime
    case 0x1a: // VisibleString
    case 0x1b: return 1; // GeneralString
    case 0x1c: return 4; // UniversalString
    case 0x1e: return 2; // BMPString
    default: return undefined;
  }
}

const HEX = '0123456789ABCDEF';

function hexByte(byte: number): string {
  return `\\${HEX[byte >> 4] as string}${HEX[byte & 15] as string}`;
}

function dump(encoded: Uint8Array): string {
  let out = '#';
  for (const byte of encoded) out += (HEX[byte >> 4] as string) + (HEX[byte & 15] as string);
  return out;
}

/** Code points of a string value, or undefined when the bytes are not valid for the type. */
function codePoints(tag: number, value: Uint8Array): number[] | undefined {
  const width = bytesPerChar(tag);
  if (width === undefined) return undefined;
  if (width === 0) {
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(value);
    } catch {
      return undefined;
    }
    return Array.from(text, (char) => char.codePointAt(0) as number);
  }
  if (value.length % width !== 0) return undefined;
  const points: number[] = [];
  for (let i = 0; i < value.length; i += width) {
    let point = 0;
    for (let j = 0; j < width; j++) point = point * 256 + (value[i + j] as number);
    points.push(point);
  }
  return points;
}

const BACKSLASH_ESCAPED = new Set([0x2c, 0x2b, 0x22, 0x3c, 0x3e, 0x3b, 0x5c]); // , + " < > ; \

function escapeValue(points: readonly number[]): string {
  let out = '';
  const encoder = new TextEncoder();
  points.forEach((point, index) => {
    if (point > 0x7f) {
      for (const byte of encoder.encode(String.fromCodePoint(point))) out += hexByte(byte);
    } else if (point < 0x20 || point === 0x7f) {
      out += hexByte(point);
    } else if (BACKSLASH_ESCAPED.has(point)) {
      out += `\\${String.fromCharCode(point)}`;
    } else if ((index === 0 && (point === 0x23 || point === 0x20)) || (index === points.length - 1 && point === 0x20)) {
      out += `\\${String.fromCharCode(point)}`;
    } else {
      out += String.fromCharCode(point);
    }
  });
  return out;
}

function formatAttribute(attribute: NameAttribute): string {
  const short = SHORT_NAMES.get(attribute.oid);
  const points = short === undefined ? undefined : codePoints(attribute.tag, attribute.value);
  const value = points === undefined ? dump(attribute.encoded) : escapeValue(points);
  return `${short ?? attribute.oid}=${value}`;
}

/** RFC 2253 text of a Name given in encoding order (as `certificateNames` returns it). */
export function formatRfc2253(rdns: readonly Rdn[]): string {
  let out = '';
  for (let i = rdns.length - 1; i >= 0; i--) {
    const rdn = rdns[i] as Rdn;
    if (i !== rdns.length - 1) out += ',';
    for (let j = rdn.length - 1; j >= 0; j--) {
      if (j !== rdn.length - 1) out += '+';
      out += formatAttribute(rdn[j] as NameAttribute);
    }
  }
  return out;
}

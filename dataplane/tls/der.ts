/**
 * A small, bounded DER reader for the two things the dataplane needs from an X.509 certificate
 * that Node does not expose losslessly: the subject Name as an ordered RDN sequence (with each
 * value's ASN.1 string type) and the dNSName / uniformResourceIdentifier subjectAltNames.
 *
 * Every read is bounds-checked; malformed input throws `DerError` and never reads past the buffer.
 */

export class DerError extends Error {}

interface Tlv {
  readonly tag: number;
  /** Offset of the first content byte. */
  readonly start: number;
  /** Offset one past the last content byte. */
  readonly end: number;
  /** Offset of the tag byte (start of the whole encoding). */
  readonly header: number;
}

function readTlv(buf: Uint8Array, offset: number, limit: number): Tlv {
  if (offset + 2 > limit) throw new DerError('truncated element');
  const tag = buf[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not supported');
  let lengthByte = buf[offset + 1] as number;
  let pos = offset + 2;
  let length: number;
  if (lengthByte < 0x80) {
    length = lengthByte;
  } else {
    lengthByte &= 0x7f;
    if (lengthByte === 0 || lengthByte > 4) throw new DerError('unsupported length encoding');
    if (pos + lengthByte > limit) throw new DerError('truncated length');
    length = 0;
    for (let i = 0; i < lengthByte; i++) length = length * 256 + (buf[pos + i] as number);
    pos += lengthByte;
  }
  if (pos + length > limit) throw new DerError('element runs past its container');
  return { tag, start: pos, end: pos + length, header: offset };
}

function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let pos = parent.start; pos < parent.end; ) {
    const child = readTlv(buf, pos, parent.end);
    out.push(child);
    pos = child.end;
  }
  return out;
}

function expect(tlv: Tlv | undefined, tag: number, what: string): Tlv {
  if (tlv?.tag !== tag) throw new DerError(`expected ${what}`);
  return tlv;
}

/** Dotted-decimal text of an OBJECT IDENTIFIER's content bytes. */
export function oidText(bytes: Uint8Array): string {
  if (bytes.length === 0) throw new DerError('empty OID');
  const parts: number[] = [];
  let value = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] as number;
    value = value * 128 + (byte & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 128) throw new DerError('OID arc too large');
    if ((byte & 0x80) === 0) {
      if (parts.length === 0) {
        const first = value < 80 ? Math.floor(value / 40) : 2;
        parts.push(first, value - first * 40);
      } else {
        parts.push(value);
      }
      value = 0;
    } else if (i === bytes.length - 1) {
      throw new DerError('truncated OID');
    }
  }
  return parts.join('.');
}

export interface NameAttribute {
  /** Dotted OID of the attribute type, e.g. `2.5.4.3`. */
  readonly oid: string;
  /** ASN.1 tag of the value (0x0c UTF8String, 0x13 PrintableString, ...). */
  readonly tag: number;
  /** The value's content bytes. */
  readonly value: Uint8Array;
  /** The value's whole DER encoding (tag, length, content), for `#hex` dumps. */
  readonly encoded: Uint8Array;
}

/** A RelativeDistinguishedName: one or more attributes (multi-valued when more than one). */
export type Rdn = readonly NameAttribute[];

export interface CertificateNames {
  /** RDNs in certificate (encoding) order, most general first. */
  readonly subject: readonly Rdn[];
  readonly dnsNames: readonly string[];
  readonly uris: readonly string[];
}

const SEQUENCE = 0x30;
const SET = 0x31;
const OID = 0x06;
const OCTET_STRING = 0x04;
const EXTENSIONS = 0xa3;
const SAN_OID = '2.5.29.17';
const SAN_DNS = 0x82;
const SAN_URI = 0x86;

function parseName(buf: Uint8Array, name: Tlv): Rdn[] {
  return children(buf, expect(name, SEQUENCE, 'Name')).map((set) => {
    return children(buf, expect(set, SET, 'RDN')).map((pair) => {
      const [type, value] = children(buf, expect(pair, SEQUENCE, 'AttributeTypeAndValue'));
      const oid = expect(type, OID, 'attribute type');
      if (value === undefined) throw new DerError('attribute without value');
      return {
        oid: oidText(buf.subarray(oid.start, oid.end)),
        tag: value.tag,
        value: buf.subarray(value.start, value.end),
        encoded: buf.subarray(value.header, value.end),
      };
    });
  });
}

const latin1 = new TextDecoder('latin1');

function parseSans(buf: Uint8Array, extnValue: Tlv, dnsNames: string[], uris: string[]): void {
  const names = readTlv(buf, extnValue.start, extnValue.end);
  for (const general of children(buf, expect(names, SEQUENCE, 'GeneralNames'))) {
    // IA5String content: decode byte-for-byte so nothing is lost or replaced.
    if (general.tag === SAN_DNS) dnsNames.push(latin1.decode(buf.subarray(general.start, general.end)));
    else if (general.tag === SAN_URI) uris.push(latin1.decode(buf.subarray(general.start, general.end)));
  }
}

/** Subject and DNS/URI SANs of a DER certificate. Throws `DerError` on malformed input. */
export function certificateNames(der: Uint8Array): CertificateNames {
  const cert = readTlv(der, 0, der.length);
  const [tbs] = children(der, expect(cert, SEQUENCE, 'Certificate'));
  const fields = children(der, expect(tbs, SEQUENCE, 'TBSCertificate'));
  // version [0] is optional; subject is the 5th field after it (serial, sigAlg, issuer, validity, subject).
  const base = fields[0]?.tag === 0xa0 ? 1 : 0;
  const subject = parseName(der, expect(fields[base + 4], SEQUENCE, 'subject'));
  const dnsNames: string[] = [];
  const uris: string[] = [];
  const extensions = fields.slice(base + 6).find((field) => field.tag === EXTENSIONS);
  if (extensions !== undefined) {
    const [list] = children(der, extensions);
    for (const extension of children(der, expect(list, SEQUENCE, 'Extensions'))) {
      const parts = children(der, expect(extension, SEQUENCE, 'Extension'));
      const id = expect(parts[0], OID, 'extnID');
      if (oidText(der.subarray(id.start, id.end)) !== SAN_OID) continue;
      const value = expect(parts[parts.length - 1], OCTET_STRING, 'extnValue');
      parseSans(der, value, dnsNames, uris);
    }
  }
  return { subject, dnsNames, uris };
}

/**
 * x-forwarded-client-cert in Envoy's format. One element per proxy hop, elements joined by `,`,
 * `key=value` pairs joined by `;`. Pairs in Envoy's order: `By` (one per URI SAN of the
 * certificate this gateway served), `Hash` (hex SHA-256 of the client certificate's DER), then the
 * configured details in the order Cert, Chain, Subject, URI, DNS. Cert, Chain and Subject are
 * always double-quoted; other values are quoted only when they contain `,` `;` `=` or `"`, with
 * `"` written as `\"`. (Envoy itself never quotes By/URI/DNS; for values without those characters
 * the output is byte-identical, and for values with them ours stays parseable.) URI yields one
 * pair per URI SAN, or an empty `URI=` when there is none; DNS one pair per DNS SAN.
 *
 * Modes (applied per request):
 * - Sanitize: the header never reaches the backend.
 * - ForwardOnly: forwarded unchanged on connections with a verified client certificate, else removed.
 * - AppendForward: our element appended to the incoming header (verified connections), else removed.
 * - SanitizeSet: replaced by our element (verified connections), else removed.
 * - AlwaysForwardOnly: forwarded unchanged whatever the connection.
 */
import { createHash, type X509Certificate } from 'node:crypto';
import type { Xfcc } from '../../api-types/dataplane-config.ts';
import { certificateNames, type CertificateNames } from './der.ts';
import { formatRfc2253 } from './dn.ts';

export const XFCC_HEADER = 'x-forwarded-client-cert';

export type XfccMode = Xfcc['mode'];

/** Which optional details go into our element. */
export interface XfccDetails {
  readonly cert: boolean;
  readonly chain: boolean;
  readonly subject: boolean;
  readonly uri: boolean;
  readonly dns: boolean;
}

/** Quotes a value when it contains a character with meaning in the header. */
export function quoteIfNeeded(value: string): string {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code === 0x2c || code === 0x3b || code === 0x3d || code === 0x22) return `"${value.replaceAll('"', '\\"')}"`;
  }
  return value;
}

/** PEM of a DER certificate as OpenSSL writes it (64-character base64 lines), URL-encoded like Envoy. */
export function urlEncodedPem(der: Uint8Array): string {
  const base64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  let pem = '-----BEGIN%20CERTIFICATE-----%0A';
  for (let i = 0; i < base64.length; i += 64) {
    pem += base64.slice(i, i + 64).replaceAll('+', '%2B').replaceAll('/', '%2F').replaceAll('=', '%3D');
    pem += '%0A';
  }
  return `${pem}-----END%20CERTIFICATE-----%0A`;
}

/**
 * A client certificate that was verified on this connection, with what the element is built
 * from. Elements are cached per detail set, so a keep-alive connection builds its element once.
 */
export class VerifiedClient {
  /** URI SANs of the gateway's own certificate on this connection. */
  readonly by: readonly string[];
  /** DER of the leaf first, then intermediates. */
  readonly chain: readonly Uint8Array[];
  #names: CertificateNames | undefined;
  readonly #elements = new Map<number, string>();

  constructor(by: readonly string[], chain: readonly Uint8Array[]) {
    if (chain.length === 0) throw new Error('a verified client needs at least its leaf certificate');
    this.by = by;
    this.chain = chain;
  }

  /** From Node certificates: the leaf, then its issuers as the TLS stack reported them. */
  static fromCertificates(by: readonly string[], leaf: X509Certificate, issuers: readonly X509Certificate[] = []): VerifiedClient {
    return new VerifiedClient(by, [leaf.raw, ...issuers.map((issuer) => issuer.raw)]);
  }

  get names(): CertificateNames {
    this.#names ??= certificateNames(this.chain[0] as Uint8Array);
    return this.#names;
  }

  /** Our XFCC element for `details`. */
  element(details: XfccDetails): string {
    const key = (details.cert ? 1 : 0) | (details.chain ? 2 : 0) | (details.subject ? 4 : 0) | (details.uri ? 8 : 0) | (details.dns ? 16 : 0);
    let element = this.#elements.get(key);
    if (element === undefined) {
      element = this.build(details);
      this.#elements.set(key, element);
    }
    return element;
  }

  private build(details: XfccDetails): string {
    const leaf = this.chain[0] as Uint8Array;
    const pairs: string[] = this.by.map((uri) => `By=${quoteIfNeeded(uri)}`);
    pairs.push(`Hash=${createHash('sha256').update(leaf).digest('hex')}`);
    if (details.cert) pairs.push(`Cert="${urlEncodedPem(leaf)}"`);
    if (details.chain) pairs.push(`Chain="${this.chain.map(urlEncodedPem).join('')}"`);
    if (details.subject) pairs.push(`Subject="${formatRfc2253(this.names.subject)}"`);
    if (details.uri) {
      const uris = this.names.uris;
      if (uris.length === 0) pairs.push('URI=');
      for (const uri of uris) pairs.push(`URI=${quoteIfNeeded(uri)}`);
    }
    if (details.dns) for (const dns of this.names.dnsNames) pairs.push(`DNS=${quoteIfNeeded(dns)}`);
    return pairs.join(';');
  }
}

/** A compiled XFCC configuration: decides the header value sent to the backend. */
export class XfccPolicy {
  readonly mode: XfccMode;
  readonly details: XfccDetails;

  constructor(config: Xfcc) {
    this.mode = config.mode;
    this.details = { cert: config.cert, chain: config.chain, subject: config.subject, uri: config.uri, dns: config.dns };
  }

  /**
   * The header value to send upstream, or undefined to send none. `incoming` is what the client
   * sent (repeated headers as an array); `client` is set only when the connection carries a
   * verified client certificate.
   */
  headerValue(incoming: string | readonly string[] | undefined, client: VerifiedClient | undefined): string | undefined {
    const received = typeof incoming === 'string' || incoming === undefined ? incoming : incoming.length === 0 ? undefined : incoming.join(',');
    switch (this.mode) {
      case 'AlwaysForwardOnly':
        return received;
      case 'Sanitize':
        return undefined;
      case 'ForwardOnly':
        return client === undefined ? undefined : received;
      case 'SanitizeSet':
        return client?.element(this.details);
      case 'AppendForward': {
        if (client === undefined) return undefined;
        const element = client.element(this.details);
        return received === undefined || received === '' ? element : `${received},${element}`;
      }
    }
  }
}

/**
 * SNI certificate selection for one TLS port, built once per config swap.
 *
 * Choosing happens in two O(1) steps (cost grows with the labels of the server name, never with
 * the number of listeners or certificates): the listener by SNI (exact hostname, then the longest
 * `*.` wildcard, then the listener without hostname; a name no listener serves falls back to the
 * catch-all listener, else the port's first listener), then within that listener its certificate
 * whose SANs name the server exactly, then one whose `*.` SAN covers exactly one more label, else
 * the listener's first certificate.
 *
 * Hot swap: a server keeps a reference to a `PortCertificates`; replacing that reference changes
 * what new handshakes get, while established connections keep the context they negotiated.
 */
import { createHash } from 'node:crypto';
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import { DEFAULT_TLS_POLICY, type Certificate, type FrontendValidation, type TlsPolicy } from '../../api-types/dataplane-config.ts';
import { HostTable } from '../hostnames.ts';
import { certificateNames } from './der.ts';

/** What a port's listeners need from a listener in the contract (HTTPS, or TLS in Terminate mode). */
export interface TlsListenerSpec {
  readonly id: string;
  readonly hostname?: string | undefined;
  /** Indexes into the config's `certificates`. */
  readonly certificates: readonly number[];
  readonly frontendValidation?: FrontendValidation | undefined;
}

export interface TlsMaterial {
  readonly certificates: readonly Certificate[];
  readonly caBundles: readonly string[];
  /** Versions and TLS 1.2 suites accepted from clients; absent: DEFAULT_TLS_POLICY. */
  readonly tlsPolicy?: TlsPolicy | undefined;
}

/** Oldest TLS version Weir speaks to backends. */
export const MIN_TLS_VERSION = 'TLSv1.2';

/** TLS 1.3 suites are all AEAD; they are named in the cipher string so OpenSSL keeps them on. */
const TLS13_SUITES = 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256';

/** The secure-context options a policy turns into. */
export function tlsPolicyOptions(policy: TlsPolicy = DEFAULT_TLS_POLICY): Pick<SecureContextOptions, 'minVersion' | 'ciphers' | 'honorCipherOrder'> {
  return { minVersion: policy.minVersion, ciphers: `${TLS13_SUITES}:${policy.cipherSuites.join(':')}`, honorCipherOrder: true };
}

export interface ServedCertificate {
  readonly context: SecureContext;
  /** Options the context was made from (a server's default context is set from these). */
  readonly options: SecureContextOptions;
  /** URI SANs of this certificate: the `By` of x-forwarded-client-cert. */
  readonly uriSans: readonly string[];
}

export interface ListenerTls {
  readonly id: string;
  readonly hostname: string | undefined;
  /** Client-certificate validation on this listener, undefined when none. */
  readonly validation: FrontendValidation['mode'] | undefined;
  /**
   * Identity of (listener, validation) across swaps: two listeners with equal keys accept the
   * same clients, so a connection made for one may serve requests for the other.
   */
  readonly key: string;
  certificateFor(servername: string | undefined): ServedCertificate;
}

export interface TlsSelection {
  readonly listener: ListenerTls;
  readonly certificate: ServedCertificate;
}

/**
 * Secure contexts by content, reused across swaps so a config change re-creates only the
 * contexts whose certificate, key or CA changed. Call `sweep` after a swap to drop the unused.
 */
export class SecureContextCache {
  #entries = new Map<string, ServedCertificate>();
  #used = new Set<string>();

  get(certificate: Certificate, caPem: string | undefined, policy: TlsPolicy | undefined): ServedCertificate {
    const policyOptions = tlsPolicyOptions(policy);
    const key = createHash('sha256').update(certificate.certPem).update('\0').update(certificate.keyPem).update('\0').update(caPem ?? '').update('\0').update(JSON.stringify(policyOptions)).digest('hex');
    this.#used.add(key);
    let served = this.#entries.get(key);
    if (served === undefined) {
      // The session id context names the CA: a session validated against one CA bundle is
      // never resumed under another (a rotated CA re-validates every client).
      const sessionIdContext = createHash('sha256').update(caPem ?? '').digest('hex').slice(0, 32);
      const options: SecureContextOptions = { cert: certificate.certPem, key: certificate.keyPem, ...policyOptions, sessionIdContext };
      if (caPem !== undefined) options.ca = caPem;
      served = { context: createSecureContext(options), options, uriSans: leafUriSans(certificate.certPem) };
      this.#entries.set(key, served);
    }
    return served;
  }

  /** Forget contexts not requested since the previous sweep. */
  sweep(): void {
    for (const key of this.#entries.keys()) if (!this.#used.has(key)) this.#entries.delete(key);
    this.#used = new Set();
  }

  get size(): number {
    return this.#entries.size;
  }
}

function leafUriSans(certPem: string): readonly string[] {
  const match = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(certPem);
  if (match === null) return [];
  try {
    return certificateNames(Buffer.from((match[1] as string).replace(/\s+/g, ''), 'base64')).uris;
  } catch {
    return [];
  }
}

class CompiledListenerTls implements ListenerTls {
  readonly id: string;
  readonly hostname: string | undefined;
  readonly validation: FrontendValidation['mode'] | undefined;
  readonly key: string;
  readonly #exact = new Map<string, ServedCertificate>();
  /** Keyed by the parent domain with its leading dot: `*.example.com` → `.example.com`. */
  readonly #wildcard = new Map<string, ServedCertificate>();
  readonly #default: ServedCertificate;

  constructor(spec: TlsListenerSpec, material: TlsMaterial, cache: SecureContextCache) {
    this.id = spec.id;
    this.hostname = spec.hostname;
    this.validation = spec.frontendValidation?.mode;
    const caPem = spec.frontendValidation === undefined ? undefined : material.caBundles[spec.frontendValidation.caBundle];
    if (spec.frontendValidation !== undefined && caPem === undefined) throw new Error(`listener ${spec.id}: CA bundle ${spec.frontendValidation.caBundle} does not exist`);
    this.key = `${spec.id}\0${this.validation ?? ''}\0${caPem === undefined ? '' : createHash('sha256').update(caPem).digest('hex')}`;
    let first: ServedCertificate | undefined;
    for (const index of spec.certificates) {
      const certificate = material.certificates[index];
      if (certificate === undefined) throw new Error(`listener ${spec.id}: certificate ${index} does not exist`);
      const served = cache.get(certificate, caPem, material.tlsPolicy);
      first ??= served;
      for (const raw of certificate.dnsNames) {
        const name = raw.toLowerCase();
        if (name.startsWith('*.')) {
          if (!this.#wildcard.has(name.slice(1))) this.#wildcard.set(name.slice(1), served);
        } else if (!this.#exact.has(name)) {
          this.#exact.set(name, served);
        }
      }
    }
    if (first === undefined) throw new Error(`listener ${spec.id}: no certificate`);
    this.#default = first;
  }

  certificateFor(servername: string | undefined): ServedCertificate {
    if (servername === undefined || servername === '') return this.#default;
    const exact = this.#exact.get(servername);
    if (exact !== undefined) return exact;
    const dot = servername.indexOf('.');
    if (dot > 0) {
      const wildcard = this.#wildcard.get(servername.slice(dot));
      if (wildcard !== undefined) return wildcard;
    }
    return this.#default;
  }
}

/** Lower-cases and drops a trailing dot, as hostnames are compared. */
export function normalizeServername(servername: string | undefined | false | null): string | undefined {
  if (typeof servername !== 'string' || servername === '') return undefined;
  const trimmed = servername.endsWith('.') ? servername.slice(0, -1) : servername;
  return trimmed.toLowerCase();
}

export class PortCertificates {
  readonly port: number;
  readonly listeners: readonly ListenerTls[];
  readonly #byHost = new HostTable<ListenerTls>();
  readonly #fallback: ListenerTls;

  /** `specs` in the config's order for the port (most specific hostname first). */
  constructor(port: number, specs: readonly TlsListenerSpec[], material: TlsMaterial, cache: SecureContextCache) {
    if (specs.length === 0) throw new Error(`port ${port}: no TLS listener`);
    this.port = port;
    this.listeners = specs.map((spec) => new CompiledListenerTls(spec, material, cache));
    for (const listener of this.listeners) this.#byHost.entry(listener.hostname, () => listener);
    this.#fallback = this.listeners.find((listener) => listener.hostname === undefined) ?? (this.listeners[0] as ListenerTls);
  }

  /** Whether `listener` (possibly of an older table) accepts exactly the clients it accepts here. */
  hasListener(listener: ListenerTls): boolean {
    return this.listeners.some((candidate) => candidate.key === listener.key);
  }

  /** The listener whose hostname serves `host` (already normalised), without fallback. */
  listenerForHost(host: string): ListenerTls | undefined {
    return this.#byHost.lookup(host);
  }

  select(servername: string | undefined): TlsSelection {
    const name = normalizeServername(servername);
    const listener = (name === undefined ? undefined : this.#byHost.lookup(name)) ?? this.#fallback;
    return { listener, certificate: listener.certificateFor(name) };
  }

  /**
   * Client-certificate request settings for the server: certificates are requested when any
   * listener validates them, and the TLS stack itself refuses the handshake when every listener
   * requires a valid one (otherwise the per-listener check runs after the handshake).
   */
  get clientCertificates(): { requestCert: boolean; rejectUnauthorized: boolean } {
    const requestCert = this.listeners.some((listener) => listener.validation !== undefined);
    const rejectUnauthorized = this.listeners.every((listener) => listener.validation === 'AllowValidOnly');
    return { requestCert, rejectUnauthorized };
  }

  /** Options for the server's default context (handshakes without SNI). */
  get defaultContextOptions(): SecureContextOptions {
    return this.select(undefined).certificate.options;
  }
}

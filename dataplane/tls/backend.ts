/**
 * TLS towards backends (BackendTLSPolicy and Gateway.spec.tls.backend): connection options for
 * `tls.connect` / undici's `connect`, built once per cluster at swap time.
 *
 * - Trust: the policy's CA bundle, or the system store (`WellKnownCACertificates: System`).
 * - SNI: the policy's hostname.
 * - Identity: with `subjectAltNames`, the server certificate must carry one of them (Hostname →
 *   a DNS SAN, wildcards per RFC 6125; URI → an exact URI SAN); otherwise it must match the
 *   hostname.
 * - Client certificate: the Gateway's, when configured (mTLS to the backend).
 */
import { getCACertificates, checkServerIdentity, type ConnectionOptions, type PeerCertificate } from 'node:tls';
import type { BackendTls } from '../../api-types/dataplane-config.ts';
import { MIN_TLS_VERSION, type TlsMaterial } from './certificates.ts';
import { certificateNames } from './der.ts';

let systemStore: readonly string[] | undefined;

/** The operating system's trust store, falling back to Node's bundled roots when it is empty. */
function systemCertificates(): readonly string[] {
  if (systemStore === undefined) {
    const system = getCACertificates('system');
    systemStore = system.length > 0 ? system : getCACertificates('bundled');
  }
  return systemStore;
}

/** Checks the server certificate against the policy; returns an Error to fail the handshake. */
export function backendIdentityCheck(tls: BackendTls): (host: string, cert: PeerCertificate) => Error | undefined {
  if (tls.subjectAltNames.length === 0) {
    return (_host, cert) => checkServerIdentity(tls.hostname, cert);
  }
  const hostnames = tls.subjectAltNames.filter((san) => san.type === 'Hostname').map((san) => san.value);
  const uris = new Set(tls.subjectAltNames.filter((san) => san.type === 'URI').map((san) => san.value));
  return (_host, cert) => {
    for (const hostname of hostnames) if (checkServerIdentity(hostname, cert) === undefined) return undefined;
    if (uris.size > 0) {
      try {
        for (const uri of certificateNames(cert.raw).uris) if (uris.has(uri)) return undefined;
      } catch {
        return new Error('backend certificate could not be parsed');
      }
    }
    const wanted = tls.subjectAltNames.map((san) => `${san.type}:${san.value}`).join(', ');
    return Object.assign(new Error(`backend certificate carries none of the expected subjectAltNames (${wanted})`), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  };
}

/** `tls.connect` options for a cluster's TLS settings; `alpn` is what the cluster speaks. */
export function backendTlsOptions(tls: BackendTls, material: TlsMaterial, alpn: readonly string[] = ['http/1.1']): ConnectionOptions {
  const ca = tls.caBundle === undefined ? systemCertificates() : material.caBundles[tls.caBundle];
  if (ca === undefined) throw new Error(`CA bundle ${String(tls.caBundle)} does not exist`);
  const options: ConnectionOptions = {
    servername: tls.hostname,
    ca: typeof ca === 'string' ? ca : [...ca],
    rejectUnauthorized: true,
    checkServerIdentity: backendIdentityCheck(tls),
    minVersion: MIN_TLS_VERSION,
    ALPNProtocols: [...alpn],
  };
  if (tls.clientCertificate !== undefined) {
    const client = material.certificates[tls.clientCertificate];
    if (client === undefined) throw new Error(`client certificate ${String(tls.clientCertificate)} does not exist`);
    options.cert = client.certPem;
    options.key = client.keyPem;
  }
  return options;
}

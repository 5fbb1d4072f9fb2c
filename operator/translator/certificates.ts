/**
 * Key material from Secrets and ConfigMaps: TLS certificates (kubernetes.io/tls Secrets) and
 * CA bundles (`ca.crt`). Parsing is pure (node:crypto, no I/O) and cached per object.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { Certificate } from '../../api-types/dataplane-config.ts';
import { Reason, type Problem } from './conditions.ts';
import type { ConfigMap, Secret } from '../../api-types/gateway-api/index.ts';
import { key, type Entry } from './meta.ts';

export type Loaded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: Problem };

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function ownValue(map: Readonly<Record<string, string>> | undefined, dataKey: string): string | undefined {
  return map !== undefined && Object.hasOwn(map, dataKey) ? map[dataKey] : undefined;
}

/** A Secret's `data` (base64) or `stringData` (plain) value; a ConfigMap's `data` (plain). */
function dataValue(object: Secret | ConfigMap, dataKey: string, base64: boolean): string | undefined {
  const encoded = ownValue(object.data, dataKey);
  if (encoded !== undefined) return base64 ? Buffer.from(encoded, 'base64').toString('utf8') : encoded;
  return 'stringData' in object ? ownValue(object.stringData, dataKey) : undefined;
}

function dnsNamesOf(certificate: X509Certificate): string[] {
  const names = new Set<string>();
  for (const part of (certificate.subjectAltName ?? '').split(', ')) {
    if (part.startsWith('DNS:')) names.add(part.slice(4).toLowerCase());
  }
  return [...names].sort();
}

function parseCertificates(pem: string): X509Certificate[] | undefined {
  const blocks = pem.match(PEM_CERTIFICATE);
  if (blocks === null) return undefined;
  try {
    return blocks.map((block) => new X509Certificate(block));
  } catch {
    return undefined;
  }
}

export class KeyMaterial {
  readonly #secrets = new Map<string, Secret>();
  readonly #configMaps = new Map<string, ConfigMap>();
  readonly #certificateCache = new Map<string, Loaded<Certificate>>();
  readonly #caCache = new Map<string, Loaded<string>>();

  constructor(secrets: readonly Entry<Secret>[], configMaps: readonly Entry<ConfigMap>[]) {
    for (const { meta, object } of secrets) this.#secrets.set(key(meta.namespace, meta.name), object);
    for (const { meta, object } of configMaps) this.#configMaps.set(key(meta.namespace, meta.name), object);
  }

  /** A serving (or client) certificate with its key from a `kubernetes.io/tls` Secret. */
  certificate(namespace: string, secretName: string): Loaded<Certificate> {
    const cacheKey = key(namespace, secretName);
    let loaded = this.#certificateCache.get(cacheKey);
    if (loaded === undefined) {
      loaded = this.#loadCertificate(namespace, secretName);
      this.#certificateCache.set(cacheKey, loaded);
    }
    return loaded;
  }

  #loadCertificate(namespace: string, secretName: string): Loaded<Certificate> {
    const secret = this.#secrets.get(key(namespace, secretName));
    const fail = (message: string): Loaded<Certificate> => ({ ok: false, problem: { reason: Reason.InvalidCertificateRef, message } });
    if (secret === undefined) return fail(`Secret ${namespace}/${secretName} not found`);
    const { type } = secret;
    if (type !== undefined && type !== 'kubernetes.io/tls') return fail(`Secret ${namespace}/${secretName} is of type ${type}, not kubernetes.io/tls`);
    const certPem = dataValue(secret, 'tls.crt', true);
    const keyPem = dataValue(secret, 'tls.key', true);
    if (certPem === undefined || keyPem === undefined) return fail(`Secret ${namespace}/${secretName} lacks tls.crt or tls.key`);
    const chain = parseCertificates(certPem);
    const leaf = chain?.[0];
    if (leaf === undefined) return fail(`Secret ${namespace}/${secretName}: tls.crt is not a PEM certificate`);
    try {
      createPrivateKey(keyPem);
    } catch {
      return fail(`Secret ${namespace}/${secretName}: tls.key is not a PEM private key`);
    }
    return { ok: true, value: { certPem: certPem.trim() + '\n', keyPem: keyPem.trim() + '\n', dnsNames: dnsNamesOf(leaf) } };
  }

  /** A PEM CA bundle from `ca.crt` of a ConfigMap or Secret. */
  caBundle(kind: 'ConfigMap' | 'Secret', namespace: string, objectName: string): Loaded<string> {
    const cacheKey = `${kind}/${key(namespace, objectName)}`;
    let loaded = this.#caCache.get(cacheKey);
    if (loaded === undefined) {
      loaded = this.#loadCaBundle(kind, namespace, objectName);
      this.#caCache.set(cacheKey, loaded);
    }
    return loaded;
  }

  #loadCaBundle(kind: 'ConfigMap' | 'Secret', namespace: string, objectName: string): Loaded<string> {
    const object = (kind === 'ConfigMap' ? this.#configMaps : this.#secrets).get(key(namespace, objectName));
    const fail = (message: string): Loaded<string> => ({ ok: false, problem: { reason: Reason.InvalidCACertificateRef, message } });
    if (object === undefined) return fail(`${kind} ${namespace}/${objectName} not found`);
    const pem = dataValue(object, 'ca.crt', kind === 'Secret');
    if (pem === undefined) return fail(`${kind} ${namespace}/${objectName} has no ca.crt`);
    const blocks = pem.match(PEM_CERTIFICATE);
    if (blocks === null || parseCertificates(pem) === undefined) return fail(`${kind} ${namespace}/${objectName}: ca.crt holds no valid PEM certificate`);
    return { ok: true, value: blocks.join('\n') + '\n' };
  }
}

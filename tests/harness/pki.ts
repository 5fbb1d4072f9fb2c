// Test-time PKI: CAs (and intermediates), server and client certificates.
//
// Certificates are made in-process with @peculiar/x509 on WebCrypto rather than by shelling
// out to openssl: TLS/mTLS tests make many certificates and a process spawn plus config
// files per certificate (SANs, EKUs) is slow and error-prone, while here every option is a
// typed field. An ECDSA P-256 key and certificate take a few milliseconds.
import 'reflect-metadata'; // @peculiar/x509's dependency injection (tsyringe) needs the polyfill.
import * as x509 from '@peculiar/x509';
import { webcrypto, X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export type KeyAlgorithm = 'ecdsa-p256' | 'ecdsa-p384' | 'rsa-2048';

export type CertificateUsage = 'server' | 'client' | 'server-and-client';

export interface CertificateOptions {
  readonly commonName: string;
  /** Subject O= values; Kubernetes reads them as the client's groups. */
  readonly organizations?: readonly string[];
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  /** URI SANs, e.g. SPIFFE IDs. */
  readonly uris?: readonly string[];
  readonly emails?: readonly string[];
  /** Extended key usage; issueServer/issueClient set it, issue() defaults to server-and-client. */
  readonly usage?: CertificateUsage;
  /** Defaults to 5 minutes ago (tolerates clock skew). Set both to make expired certs. */
  readonly notBefore?: Date;
  /** Defaults to 7 days after notBefore. */
  readonly notAfter?: Date;
  /** Defaults to ecdsa-p256. */
  readonly keyAlgorithm?: KeyAlgorithm;
}

export interface CertificateAuthorityOptions {
  readonly commonName?: string;
  readonly organizations?: readonly string[];
  readonly keyAlgorithm?: KeyAlgorithm;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  /** Max intermediates below this CA (BasicConstraints pathLen); unlimited by default. */
  readonly pathLength?: number;
}

export interface CertificateFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** Leaf followed by intermediates: what a server or client presents. */
  readonly chainFile: string;
}

export interface IssuedCertificate {
  /** This certificate alone, PEM. */
  readonly certPem: string;
  /** Its private key, PKCS#8 PEM. */
  readonly keyPem: string;
  /** This certificate followed by the intermediates up to (not including) the root. */
  readonly chainPem: string;
  /** Parsed, for assertions (subject, fingerprint256, serialNumber, ...). */
  readonly x509: X509Certificate;
  /** Writes cert, key (mode 0600) and chain as <baseName>.crt/.key/-chain.crt. */
  writeFiles(dir: string, baseName: string): Promise<CertificateFiles>;
}

export interface CertificateAuthority extends IssuedCertificate {
  /** A leaf certificate; usage defaults to server-and-client. */
  issue(options: CertificateOptions): Promise<IssuedCertificate>;
  /** A TLS server certificate; give dnsNames and/or ipAddresses (clients verify SANs, not CN). */
  issueServer(options: Omit<CertificateOptions, 'usage'>): Promise<IssuedCertificate>;
  issueClient(options: Omit<CertificateOptions, 'usage'>): Promise<IssuedCertificate>;
  /** A subordinate CA signed by this one; its chainPem includes this CA unless this is the root. */
  issueIntermediate(options?: CertificateAuthorityOptions): Promise<CertificateAuthority>;
}

const defaultValidityMs = 7 * 24 * 3600 * 1000;
const clockSkewMs = 5 * 60 * 1000;

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

interface Algorithms {
  readonly generate: webcrypto.EcKeyGenParams | webcrypto.RsaHashedKeyGenParams;
  readonly sign: webcrypto.EcdsaParams | webcrypto.Algorithm;
  readonly isRsa: boolean;
}

const algorithms: Record<KeyAlgorithm, Algorithms> = {
  'ecdsa-p256': { generate: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' }, isRsa: false },
  'ecdsa-p384': { generate: { name: 'ECDSA', namedCurve: 'P-384' }, sign: { name: 'ECDSA', hash: 'SHA-384' }, isRsa: false },
  'rsa-2048': {
    generate: { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    sign: { name: 'RSASSA-PKCS1-v1_5' },
    isRsa: true,
  },
};

/** A self-signed root CA. */
export async function createCertificateAuthority(options: CertificateAuthorityOptions = {}): Promise<CertificateAuthority> {
  const algorithm = algorithms[options.keyAlgorithm ?? 'ecdsa-p256'];
  const keys = await generateKeys(algorithm);
  const name = subject(options.commonName ?? 'weir-test-ca', options.organizations);
  const notBefore = options.notBefore ?? new Date(Date.now() - clockSkewMs);
  const cert = await x509.X509CertificateGenerator.create({
    subject: name,
    issuer: name,
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    signingAlgorithm: algorithm.sign,
    notBefore,
    notAfter: options.notAfter ?? new Date(notBefore.getTime() + defaultValidityMs),
    extensions: await caExtensions(keys.publicKey, options.pathLength),
  });
  return new Authority(cert, keys.privateKey, algorithm, [], await exportKey(keys.privateKey));
}

/** A self-signed leaf certificate (trusted by nobody): for "untrusted certificate" tests. */
export async function createSelfSignedCertificate(options: CertificateOptions): Promise<IssuedCertificate> {
  const algorithm = algorithms[options.keyAlgorithm ?? 'ecdsa-p256'];
  const keys = await generateKeys(algorithm);
  const name = subject(options.commonName, options.organizations);
  const cert = await x509.X509CertificateGenerator.create({
    subject: name,
    issuer: name,
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    signingAlgorithm: algorithm.sign,
    ...validity(options),
    extensions: await leafExtensions(options, keys.publicKey, keys.publicKey, algorithm),
  });
  return new Issued(cert, await exportKey(keys.privateKey), []);
}

class Issued implements IssuedCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  readonly chainPem: string;
  readonly x509: X509Certificate;

  constructor(cert: x509.X509Certificate, keyPem: string, intermediates: readonly x509.X509Certificate[]) {
    this.certPem = pem(cert);
    this.keyPem = keyPem;
    this.chainPem = [cert, ...intermediates].map(pem).join('');
    this.x509 = new X509Certificate(this.certPem);
  }

  async writeFiles(dir: string, baseName: string): Promise<CertificateFiles> {
    const files: CertificateFiles = {
      certFile: join(dir, `${baseName}.crt`),
      keyFile: join(dir, `${baseName}.key`),
      chainFile: join(dir, `${baseName}-chain.crt`),
    };
    await Promise.all([
      writeFile(files.certFile, this.certPem),
      writeFile(files.keyFile, this.keyPem, { mode: 0o600 }),
      writeFile(files.chainFile, this.chainPem),
    ]);
    return files;
  }
}

class Authority extends Issued implements CertificateAuthority {
  readonly #cert: x509.X509Certificate;
  readonly #key: CryptoKey;
  readonly #algorithm: Algorithms;
  /** Intermediates from this CA (inclusive, unless it is the root) up to the root (exclusive). */
  readonly #chain: readonly x509.X509Certificate[];

  constructor(cert: x509.X509Certificate, key: CryptoKey, algorithm: Algorithms, parents: readonly x509.X509Certificate[], keyPem: string) {
    super(cert, keyPem, parents);
    this.#cert = cert;
    this.#key = key;
    this.#algorithm = algorithm;
    const isRoot = cert.subject === cert.issuer && parents.length === 0;
    this.#chain = isRoot ? [] : [cert, ...parents];
  }

  issueServer(options: Omit<CertificateOptions, 'usage'>): Promise<IssuedCertificate> {
    return this.issue({ ...options, usage: 'server' });
  }

  issueClient(options: Omit<CertificateOptions, 'usage'>): Promise<IssuedCertificate> {
    return this.issue({ ...options, usage: 'client' });
  }

  async issue(options: CertificateOptions): Promise<IssuedCertificate> {
    const algorithm = algorithms[options.keyAlgorithm ?? 'ecdsa-p256'];
    const keys = await generateKeys(algorithm);
    const cert = await x509.X509CertificateGenerator.create({
      subject: subject(options.commonName, options.organizations),
      issuer: this.#cert.subjectName,
      publicKey: keys.publicKey,
      signingKey: this.#key,
      signingAlgorithm: this.#algorithm.sign,
      ...validity(options),
      extensions: await leafExtensions(options, keys.publicKey, this.#cert, algorithm),
    });
    return new Issued(cert, await exportKey(keys.privateKey), this.#chain);
  }

  async issueIntermediate(options: CertificateAuthorityOptions = {}): Promise<CertificateAuthority> {
    const algorithm = algorithms[options.keyAlgorithm ?? 'ecdsa-p256'];
    const keys = await generateKeys(algorithm);
    const cert = await x509.X509CertificateGenerator.create({
      subject: subject(options.commonName ?? 'weir-test-intermediate-ca', options.organizations),
      issuer: this.#cert.subjectName,
      publicKey: keys.publicKey,
      signingKey: this.#key,
      signingAlgorithm: this.#algorithm.sign,
      ...validity(options),
      extensions: [
        ...(await caExtensions(keys.publicKey, options.pathLength)),
        await x509.AuthorityKeyIdentifierExtension.create(this.#cert),
      ],
    });
    return new Authority(cert, keys.privateKey, algorithm, this.#chain, await exportKey(keys.privateKey));
  }
}

async function generateKeys(algorithm: Algorithms): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(algorithm.generate, true, ['sign', 'verify']);
}

async function exportKey(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

function pem(cert: x509.X509Certificate): string {
  return `${cert.toString('pem')}\n`;
}

function subject(commonName: string, organizations: readonly string[] = []): x509.JsonName {
  return [...organizations.map((o) => ({ O: [o] })), { CN: [commonName] }];
}

function validity(options: { notBefore?: Date; notAfter?: Date }): { notBefore: Date; notAfter: Date } {
  const notBefore = options.notBefore ?? new Date(Date.now() - clockSkewMs);
  return { notBefore, notAfter: options.notAfter ?? new Date(notBefore.getTime() + defaultValidityMs) };
}

async function caExtensions(publicKey: CryptoKey, pathLength?: number): Promise<x509.Extension[]> {
  return [
    new x509.BasicConstraintsExtension(true, pathLength, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
    await x509.SubjectKeyIdentifierExtension.create(publicKey),
  ];
}

async function leafExtensions(
  options: CertificateOptions,
  publicKey: CryptoKey,
  issuer: x509.X509Certificate | CryptoKey,
  algorithm: Algorithms,
): Promise<x509.Extension[]> {
  const usage = options.usage ?? 'server-and-client';
  const ekus = [
    ...(usage === 'client' ? [] : [x509.ExtendedKeyUsage.serverAuth]),
    ...(usage === 'server' ? [] : [x509.ExtendedKeyUsage.clientAuth]),
  ];
  const { digitalSignature, keyEncipherment } = x509.KeyUsageFlags;
  // RSA key exchange (TLS 1.2 without ECDHE) needs keyEncipherment; ECDSA keys must not have it.
  const keyUsage = algorithm.isRsa
    ? new x509.KeyUsagesExtension(digitalSignature | keyEncipherment, true)
    : new x509.KeyUsagesExtension(digitalSignature, true);
  const names: x509.JsonGeneralName[] = [
    ...(options.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(options.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
    ...(options.uris ?? []).map((value) => ({ type: 'url' as const, value })),
    ...(options.emails ?? []).map((value) => ({ type: 'email' as const, value })),
  ];
  return [
    new x509.BasicConstraintsExtension(false, undefined, true),
    keyUsage,
    new x509.ExtendedKeyUsageExtension(ekus),
    await x509.SubjectKeyIdentifierExtension.create(publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(issuer),
    ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : []),
  ];
}

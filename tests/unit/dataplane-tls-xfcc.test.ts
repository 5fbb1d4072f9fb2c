// XFCC element format and modes, the RFC 2253 subject printer (checked against the openssl CLI,
// which prints with the same XN_FLAG_RFC2253 flags Envoy uses) and the DER reader's robustness.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { certificateNames, DerError } from '../../dataplane/tls/der.ts';
import { formatRfc2253 } from '../../dataplane/tls/dn.ts';
import { quoteIfNeeded, urlEncodedPem, VerifiedClient, XfccPolicy } from '../../dataplane/tls/xfcc.ts';
import { createCertificateAuthority } from '../harness/pki.ts';

const dir = mkdtempSync(join(tmpdir(), 'weir-xfcc-'));
t.teardown(() => { rmSync(dir, { recursive: true, force: true }); });

/** A self-signed certificate made by the openssl CLI with the given subject (openssl -subj syntax). */
function opensslCert(name: string, subject: string, extra: string[] = []): { der: Buffer; rfc2253: string } {
  const certFile = join(dir, `${name}.pem`);
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, `${name}.key`),
    '-out', certFile, '-days', '1', '-multivalue-rdn', '-utf8', '-subj', subject, ...extra,
  ], { stdio: 'ignore' });
  const printed = execFileSync('openssl', ['x509', '-in', certFile, '-noout', '-subject', '-nameopt', 'RFC2253'], { encoding: 'utf8' });
  return { der: new X509Certificate(readFileSync(certFile)).raw, rfc2253: printed.replace(/^subject=/, '').replace(/\n$/, '') };
}

/** Envoy's URL encoding of a PEM, applied to an independently produced PEM text. */
function envoyEncode(pem: string): string {
  return pem.replaceAll('\n', '%0A').replaceAll(' ', '%20').replaceAll('+', '%2B').replaceAll('/', '%2F').replaceAll('=', '%3D');
}

function hexHash(cert: X509Certificate): string {
  return cert.fingerprint256.replaceAll(':', '').toLowerCase();
}

t.test('Subject is printed exactly like OpenSSL XN_FLAG_RFC2253', (t) => {
  const subjects = [
    '/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client',
    '/O=Acme, Inc./OU=r&d/CN=  #lead é "q" <x>;\\\\ ',
    '/DC=com/DC=example/CN=svc/emailAddress=a@example.com',
    '/serialNumber=42+UID=u1/CN=multi',
    '/CN=#start/O=trailing ',
    '/1.2.3.4=custom/CN=unknown oid',
    '/CN=日本語/O=x',
    '/CN=ctl\x01char',
  ];
  subjects.forEach((subject, i) => {
    const { der, rfc2253 } = opensslCert(`dn${i}`, subject);
    t.equal(formatRfc2253(certificateNames(der).subject), rfc2253, subject);
  });
  t.end();
});

t.test('SANs are read in order, DNS and URI separately', (t) => {
  const { der } = opensslCert('sans', '/CN=sans', ['-addext', 'subjectAltName=DNS:a.example.com,URI:spiffe://acme/ns/x,IP:127.0.0.1,DNS:b.example.com,email:x@y.z']);
  const names = certificateNames(der);
  t.same(names.dnsNames, ['a.example.com', 'b.example.com']);
  t.same(names.uris, ['spiffe://acme/ns/x']);
  t.end();
});

t.test('element is byte-exact for every detail set', async (t) => {
  const ca = await createCertificateAuthority({ commonName: 'xfcc-root' });
  const intermediate = await ca.issueIntermediate({ commonName: 'xfcc-intermediate' });
  const client = await intermediate.issueClient({
    commonName: 'client one',
    organizations: ['Acme'],
    uris: ['spiffe://acme/ns/default/sa/client'],
    dnsNames: ['client.acme.test', 'alt.acme.test'],
  });
  const inter = new X509Certificate(intermediate.certPem);
  const verified = VerifiedClient.fromCertificates(['spiffe://acme/gateway'], client.x509, [inter]);
  const hash = hexHash(client.x509);
  const cert = envoyEncode(client.certPem);
  const chain = envoyEncode(client.certPem + intermediate.certPem);
  t.equal(urlEncodedPem(client.x509.raw), cert, 'Cert matches Envoy encoding of the 64-column PEM');

  const none = { cert: false, chain: false, subject: false, uri: false, dns: false };
  t.equal(verified.element(none), `By=spiffe://acme/gateway;Hash=${hash}`);
  t.equal(verified.element({ ...none, subject: true, uri: true, dns: true }),
    `By=spiffe://acme/gateway;Hash=${hash};Subject="CN=client one,O=Acme";URI=spiffe://acme/ns/default/sa/client;DNS=client.acme.test;DNS=alt.acme.test`);
  t.equal(verified.element({ cert: true, chain: true, subject: true, uri: true, dns: true }),
    `By=spiffe://acme/gateway;Hash=${hash};Cert="${cert}";Chain="${chain}";Subject="CN=client one,O=Acme";` +
    'URI=spiffe://acme/ns/default/sa/client;DNS=client.acme.test;DNS=alt.acme.test');
  t.equal(verified.element({ ...none, cert: true }), `By=spiffe://acme/gateway;Hash=${hash};Cert="${cert}"`);
  t.equal(verified.element({ ...none, chain: true }), `By=spiffe://acme/gateway;Hash=${hash};Chain="${chain}"`);

  const bare = await ca.issueClient({ commonName: 'bare' });
  const noBy = VerifiedClient.fromCertificates([], bare.x509);
  t.equal(noBy.element({ ...none, uri: true, dns: true }), `Hash=${hexHash(bare.x509)};URI=`, 'empty URI= kept, no DNS pairs, no By');
  const twoBy = VerifiedClient.fromCertificates(['spiffe://a', 'spiffe://b'], bare.x509);
  t.equal(twoBy.element(none), `By=spiffe://a;By=spiffe://b;Hash=${hexHash(bare.x509)}`);
});

t.test('values with , ; = or quotes are quoted', (t) => {
  t.equal(quoteIfNeeded('spiffe://a/b'), 'spiffe://a/b');
  t.equal(quoteIfNeeded('spiffe://a/b?x=1'), '"spiffe://a/b?x=1"');
  t.equal(quoteIfNeeded('a;b,c'), '"a;b,c"');
  t.equal(quoteIfNeeded('say "hi"'), '"say \\"hi\\""');
  t.end();
});

t.test('modes', async (t) => {
  const ca = await createCertificateAuthority();
  const leaf = await ca.issueClient({ commonName: 'c', uris: ['spiffe://c'] });
  const client = VerifiedClient.fromCertificates(['spiffe://gw'], leaf.x509);
  const element = `By=spiffe://gw;Hash=${hexHash(leaf.x509)};Subject="CN=c";URI=spiffe://c`;
  const details = { subject: true, cert: false, chain: false, uri: true, dns: true };
  const forged = 'By=spiffe://evil;Hash=00;Subject="CN=admin"';
  const policy = (mode: XfccPolicy['mode']): XfccPolicy => new XfccPolicy({ mode, ...details });

  t.equal(policy('Sanitize').headerValue(forged, client), undefined);
  t.equal(policy('Sanitize').headerValue(forged, undefined), undefined);
  t.equal(policy('ForwardOnly').headerValue(forged, client), forged);
  t.equal(policy('ForwardOnly').headerValue(forged, undefined), undefined, 'no verified cert: removed');
  t.equal(policy('AppendForward').headerValue(forged, client), `${forged},${element}`);
  t.equal(policy('AppendForward').headerValue(undefined, client), element);
  t.equal(policy('AppendForward').headerValue(['a=1', 'b=2'], client), `a=1,b=2,${element}`, 'repeated headers joined with ,');
  t.equal(policy('AppendForward').headerValue(forged, undefined), undefined);
  t.equal(policy('SanitizeSet').headerValue(forged, client), element);
  t.equal(policy('SanitizeSet').headerValue(undefined, client), element);
  t.equal(policy('SanitizeSet').headerValue(forged, undefined), undefined);
  t.equal(policy('AlwaysForwardOnly').headerValue(forged, undefined), forged);
  t.equal(policy('AlwaysForwardOnly').headerValue(forged, client), forged);
  t.equal(policy('AlwaysForwardOnly').headerValue(undefined, client), undefined);
});

t.test('the DER reader rejects truncated and corrupted input with DerError only', async (t) => {
  const ca = await createCertificateAuthority();
  const leaf = await ca.issueClient({ commonName: 'fuzz', uris: ['spiffe://fuzz'], dnsNames: ['fuzz.test'] });
  const der = leaf.x509.raw;
  let seed = 42;
  const random = (): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31; };
  let unexpected = 0;
  const attempt = (input: Uint8Array): void => {
    try {
      certificateNames(input);
    } catch (error) {
      if (!(error instanceof DerError)) unexpected++;
    }
  };
  for (let length = 0; length < der.length; length++) attempt(der.subarray(0, length));
  for (let i = 0; i < 3000; i++) {
    const copy = Buffer.from(der);
    const flips = 1 + Math.floor(random() * 4);
    for (let f = 0; f < flips; f++) copy[Math.floor(random() * copy.length)] = Math.floor(random() * 256);
    attempt(copy);
  }
  attempt(Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]));
  attempt(Buffer.from([0x30, 0x80]));
  t.equal(unexpected, 0, 'no error other than DerError');
});

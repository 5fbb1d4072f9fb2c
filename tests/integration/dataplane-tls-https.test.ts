// HTTPS ports with real TLS: SNI choice (exact, wildcard, default), ALPN h2 and http/1.1, hot
// swap that keeps open connections, 421 for coalesced/misdirected requests, frontend mTLS
// (AllowValidOnly, AllowInsecureFallback) and XFCC built from the real connection.
import { once } from 'node:events';
import { request as httpsRequest } from 'node:https';
import { connect as h2connect, type ClientHttp2Session, type Http2SecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import t from 'tap';
import type { Certificate, FrontendValidation, Xfcc } from '../../api-types/dataplane-config.ts';
import { PortCertificates, SecureContextCache, type TlsListenerSpec } from '../../dataplane/tls/certificates.ts';
import { createHttpsServer, currentCertificates, swapCertificates } from '../../dataplane/tls/https-server.ts';
import { misdirected, requestHost } from '../../dataplane/decide.ts';
import { connectionOf } from '../../dataplane/exchange.ts';
import { XFCC_HEADER } from '../../dataplane/tls/xfcc.ts';
import { XfccPolicy } from '../../dataplane/tls/xfcc.ts';
import { createCertificateAuthority, createSelfSignedCertificate, type IssuedCertificate } from '../harness/pki.ts';

const ca = await createCertificateAuthority({ commonName: 'https-test-ca' });
const clientCa = await createCertificateAuthority({ commonName: 'client-ca', keyAlgorithm: 'rsa-2048' });
/** Same name as the trusted client CA, another key: OpenSSL finds it by name and the signature fails. */
const impostorCa = await createCertificateAuthority({ commonName: 'client-ca', keyAlgorithm: 'rsa-2048' });
const otherCa = await createCertificateAuthority({ commonName: 'other-ca' });

function material(cert: IssuedCertificate, dnsNames: string[]): Certificate {
  return { certPem: cert.chainPem, keyPem: cert.keyPem, dnsNames };
}

const exactCert = await ca.issueServer({ commonName: 'exact', dnsNames: ['a.example.test'], uris: ['spiffe://weir/gw'] });
const exact2Cert = await ca.issueServer({ commonName: 'exact-other', dnsNames: ['other.wild.example.test'] });
const wildCert = await ca.issueServer({ commonName: 'wild', dnsNames: ['*.wild.example.test'] });
const defaultCert = await ca.issueServer({ commonName: 'default', dnsNames: ['default.example.test'] });
const rotatedCert = await ca.issueServer({ commonName: 'exact-rotated', dnsNames: ['a.example.test'] });
const goodClient = await clientCa.issueClient({ commonName: 'alice', organizations: ['Acme'], uris: ['spiffe://acme/alice'], dnsNames: ['alice.acme.test'] });
const strangerClient = await otherCa.issueClient({ commonName: 'mallory' });
const impostorClient = await impostorCa.issueClient({ commonName: 'alice', organizations: ['Acme'] });
const selfSigned = await createSelfSignedCertificate({ commonName: 'selfie', usage: 'client' });

const certificates: Certificate[] = [
  material(exactCert, ['a.example.test']),
  material(wildCert, ['*.wild.example.test']),
  material(exact2Cert, ['other.wild.example.test']),
  material(defaultCert, ['default.example.test']),
  material(rotatedCert, ['a.example.test']),
];
const caBundles = [clientCa.certPem];
const cache = new SecureContextCache();

function port(specs: TlsListenerSpec[], certs = certificates): PortCertificates {
  return new PortCertificates(443, specs, { certificates: certs, caBundles }, cache);
}

const basic: TlsListenerSpec[] = [
  { id: 'gw/a', hostname: 'a.example.test', certificates: [0] },
  { id: 'gw/wild', hostname: '*.wild.example.test', certificates: [1, 2] },
  { id: 'gw/any', certificates: [3] },
];

const xfccConfig: Xfcc = { mode: 'SanitizeSet', subject: true, cert: false, chain: false, uri: true, dns: true };

async function serve(t: Teardown, table: PortCertificates, xfcc: Xfcc = xfccConfig): Promise<{ server: Http2SecureServer; port: number }> {
  const policy = new XfccPolicy(xfcc);
  const server = createHttpsServer(table, (req, res) => {
    const current = currentCertificates(server);
    if (current === undefined) throw new Error('no table');
    // The TLS half of decide(): the host's listener must be the connection's, then XFCC.
    const connection = connectionOf(req, true);
    const host = requestHost(req);
    const listener = host === undefined ? undefined : current.listenerForHost(host);
    if (misdirected(listener === undefined ? undefined : { id: listener.id, tlsKey: listener.key }, true, connection) !== 'no') {
      res.writeHead(421);
      res.end();
      return;
    }
    const client = connection.secure ? connection.tls?.client() : undefined;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ xfcc: policy.headerValue(req.headers[XFCC_HEADER], client) ?? null, version: req.httpVersion }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => new Promise<void>((resolve) => { server.close(() => { resolve(); }); }));
  return { server, port: (server.address() as AddressInfo).port };
}

interface Teardown { teardown(fn: () => unknown): void }
interface Answer { xfcc: string | null; version?: string }
const answer = (body: string): Answer => JSON.parse(body) as Answer;

/** Handshakes and returns the CN the server presented (or throws the TLS error). */
async function presentedCn(portNumber: number, servername: string | undefined, extra: ConnectionOptions = {}): Promise<string> {
  const socket = tlsConnect({ host: '127.0.0.1', port: portNumber, ca: ca.certPem, checkServerIdentity: () => undefined, ...(servername === undefined ? {} : { servername }), ...extra });
  try {
    await once(socket, 'secureConnect');
    const cn = socket.getPeerX509Certificate()?.subject.match(/CN=(.*)/)?.[1] ?? '';
    return cn;
  } finally {
    socket.destroy();
  }
}

async function h2(portNumber: number, servername: string, extra: ConnectionOptions = {}): Promise<ClientHttp2Session> {
  const session = h2connect(`https://127.0.0.1:${portNumber}`, { ca: ca.certPem, servername, ...extra });
  await once(session, 'connect');
  return session;
}

async function h2get(session: ClientHttp2Session, authority: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const stream = session.request({ ':path': '/', ':authority': authority, ...headers });
  let body = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => { body += chunk; });
  const [response] = (await once(stream, 'response')) as [Record<string, string | number>];
  await once(stream, 'end');
  return { status: Number(response[':status']), body };
}

async function http1get(portNumber: number, servername: string, headers: Record<string, string> = {}, extra: ConnectionOptions = {}): Promise<{ status: number; body: string }> {
  const req = httpsRequest({ host: '127.0.0.1', port: portNumber, servername, path: '/', headers: { host: servername, ...headers }, ca: ca.certPem, agent: false, ALPNProtocols: ['http/1.1'], ...extra });
  req.end();
  const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
  let body = '';
  res.setEncoding('utf8');
  for await (const chunk of res) body += chunk as string;
  return { status: res.statusCode ?? 0, body };
}

t.test('SNI picks exact, wildcard, per-listener exact, default', async (t) => {
  const { port: p } = await serve(t, port(basic));
  t.equal(await presentedCn(p, 'a.example.test'), 'exact');
  t.equal(await presentedCn(p, 'A.Example.Test.'), 'exact', 'case and trailing dot ignored');
  t.equal(await presentedCn(p, 'x.wild.example.test'), 'wild');
  t.equal(await presentedCn(p, 'other.wild.example.test'), 'exact-other', 'exact SAN beats the wildcard within the listener');
  t.equal(await presentedCn(p, 'deep.x.wild.example.test'), 'wild', 'listener wildcard covers more labels; its default certificate is served');
  t.equal(await presentedCn(p, 'unknown.test'), 'default', 'no listener for the name: catch-all listener');
  t.equal(await presentedCn(p, undefined), 'default', 'no SNI: default');
});

t.test('TLS 1.2 minimum and ALPN h2 / http/1.1', async (t) => {
  const { port: p } = await serve(t, port(basic));
  await t.rejects(presentedCn(p, 'a.example.test', { maxVersion: 'TLSv1.1', minVersion: 'TLSv1' }), 'TLS 1.1 refused');
  const socket = tlsConnect({ host: '127.0.0.1', port: p, servername: 'a.example.test', ca: ca.certPem, ALPNProtocols: ['h2', 'http/1.1'] });
  await once(socket, 'secureConnect');
  t.equal(socket.alpnProtocol, 'h2');
  socket.destroy();
  const session = await h2(p, 'a.example.test');
  t.same(answer((await h2get(session, 'a.example.test')).body), { xfcc: null, version: '2.0' });
  session.close();
  const res = await http1get(p, 'a.example.test');
  t.same(answer(res.body), { xfcc: null, version: '1.1' });
});

t.test('hot swap: new handshakes get new certificates, open connections keep working', async (t) => {
  const { server, port: p } = await serve(t, port(basic));
  const before = await h2(p, 'a.example.test');
  t.equal((await h2get(before, 'a.example.test')).status, 200);
  swapCertificates(server, port([{ id: 'gw/a', hostname: 'a.example.test', certificates: [4] }, ...basic.slice(1)]));
  t.equal(await presentedCn(p, 'a.example.test'), 'exact-rotated', 'new handshake sees the rotated certificate');
  t.equal((await h2get(before, 'a.example.test')).status, 200, 'the connection opened before the swap still serves');
  t.equal((before.socket as TLSSocket).getPeerX509Certificate()?.subject, 'CN=exact', 'and still uses the certificate it negotiated');
  before.close();
  swapCertificates(server, port(basic.slice(1)));
  t.equal(await presentedCn(p, 'a.example.test'), 'default', 'listener removed: falls back to the catch-all');
});

t.test('421 when the Host belongs to another listener of the port (HTTP/2 coalescing)', async (t) => {
  const { port: p } = await serve(t, port(basic));
  const session = await h2(p, 'a.example.test');
  t.equal((await h2get(session, 'a.example.test')).status, 200);
  t.equal((await h2get(session, 'a.example.test:443')).status, 200, 'port in authority ignored');
  t.equal((await h2get(session, 'x.wild.example.test')).status, 421);
  t.equal((await h2get(session, 'nowhere.test')).status, 421, 'the catch-all listener is another listener too');
  session.close();
  const wild = await h2(p, 'x.wild.example.test');
  t.equal((await h2get(wild, 'y.wild.example.test')).status, 200, 'same listener, other host: fine');
  t.equal((await h2get(wild, 'a.example.test')).status, 421);
  wild.close();
  t.equal((await http1get(p, 'a.example.test', { host: 'x.wild.example.test' })).status, 421, 'HTTP/1.1 too');
});

const valid: FrontendValidation = { caBundle: 0, mode: 'AllowValidOnly' };
const fallback: FrontendValidation = { caBundle: 0, mode: 'AllowInsecureFallback' };
const clientOf = (cert: IssuedCertificate): ConnectionOptions => ({ cert: cert.chainPem, key: cert.keyPem });

t.test('AllowValidOnly: no connection without a valid client certificate', async (t) => {
  const { port: p } = await serve(t, port([{ id: 'gw/a', hostname: 'a.example.test', certificates: [0], frontendValidation: valid }]));
  const ok = await http1get(p, 'a.example.test', {}, clientOf(goodClient));
  t.equal(ok.status, 200);
  t.match(answer(ok.body), { xfcc: /^By=spiffe:\/\/weir\/gw;Hash=[0-9a-f]{64};Subject="CN=alice,O=Acme";URI=spiffe:\/\/acme\/alice;DNS=alice\.acme\.test$/ });
  await t.rejects(http1get(p, 'a.example.test'), 'no certificate');
  await t.rejects(http1get(p, 'a.example.test', {}, clientOf(strangerClient)), 'certificate from another CA');
  await t.rejects(http1get(p, 'a.example.test', {}, clientOf(selfSigned)), 'self-signed certificate');
  await t.rejects(http1get(p, 'a.example.test', {}, clientOf(impostorClient)), "certificate from a CA with the trusted CA's name but another key");
});

t.test('AllowInsecureFallback: connection allowed, identity only when valid; forged XFCC stripped', async (t) => {
  const { port: p } = await serve(t, port([{ id: 'gw/a', hostname: 'a.example.test', certificates: [0], frontendValidation: fallback }]));
  const forged = { 'x-forwarded-client-cert': 'By=spiffe://evil;Hash=00;Subject="CN=admin"' };
  t.same(answer((await http1get(p, 'a.example.test', forged)).body).xfcc, null, 'no certificate: header removed');
  t.same(answer((await http1get(p, 'a.example.test', forged, clientOf(strangerClient))).body).xfcc, null, 'invalid certificate: no identity');
  const impostor = await http1get(p, 'a.example.test', forged, clientOf(impostorClient));
  t.equal(impostor.status, 200, "a certificate whose issuer has the CA's name but not its key: served, as fallback says");
  t.same(answer(impostor.body).xfcc, null, '… without an identity');
  const impostorSession = await h2(p, 'a.example.test', clientOf(impostorClient));
  t.equal((await h2get(impostorSession, 'a.example.test')).status, 200, 'the same over HTTP/2');
  impostorSession.close();
  const good = answer((await http1get(p, 'a.example.test', forged, clientOf(goodClient))).body);
  t.equal(good.xfcc, `By=spiffe://weir/gw;Hash=${goodClient.x509.fingerprint256.replaceAll(':', '').toLowerCase()};Subject="CN=alice,O=Acme";URI=spiffe://acme/alice;DNS=alice.acme.test`);
  const session = await h2(p, 'a.example.test', clientOf(goodClient));
  t.same(answer((await h2get(session, 'a.example.test', forged)).body).xfcc, good.xfcc, 'same over HTTP/2');
  session.close();
});

t.test('mixed port: validation applies per listener and coalescing cannot skip it', async (t) => {
  const { port: p } = await serve(t, port([
    { id: 'gw/secure', hostname: 'a.example.test', certificates: [0], frontendValidation: valid },
    { id: 'gw/open', hostname: '*.wild.example.test', certificates: [1] },
  ]));
  t.equal((await http1get(p, 'x.wild.example.test')).status, 200, 'open listener without client certificate');
  await t.rejects(http1get(p, 'a.example.test'), 'secure listener drops the connection');
  // A connection validated for nothing (open listener, cert covers only the wildcard) tries the secure host.
  const session = await h2(p, 'x.wild.example.test');
  t.equal((await h2get(session, 'a.example.test')).status, 421);
  session.close();
});

t.test('XFCC per mode on a real mTLS connection', async (t) => {
  const forged = 'By=spiffe://evil;Hash=00';
  const modes: [Xfcc['mode'], (element: string) => string | null][] = [
    ['Sanitize', () => null],
    ['ForwardOnly', () => forged],
    ['AppendForward', (element) => `${forged},${element}`],
    ['SanitizeSet', (element) => element],
    ['AlwaysForwardOnly', () => forged],
  ];
  const hash = goodClient.x509.fingerprint256.replaceAll(':', '').toLowerCase();
  const cert = goodClient.certPem.replaceAll('\n', '%0A').replaceAll(' ', '%20').replaceAll('+', '%2B').replaceAll('/', '%2F').replaceAll('=', '%3D');
  const element = `By=spiffe://weir/gw;Hash=${hash};Cert="${cert}";URI=spiffe://acme/alice`;
  for (const [mode, expected] of modes) {
    const { port: p } = await serve(t, port([{ id: 'gw/a', hostname: 'a.example.test', certificates: [0], frontendValidation: fallback }]),
      { mode, subject: false, cert: true, chain: false, uri: true, dns: false });
    const withCert = answer((await http1get(p, 'a.example.test', { 'x-forwarded-client-cert': forged }, clientOf(goodClient))).body);
    t.equal(withCert.xfcc, expected(element), `${mode} with a verified certificate`);
    const without = answer((await http1get(p, 'a.example.test', { 'x-forwarded-client-cert': forged })).body);
    t.equal(without.xfcc, mode === 'AlwaysForwardOnly' ? forged : null, `${mode} without a certificate`);
  }
});

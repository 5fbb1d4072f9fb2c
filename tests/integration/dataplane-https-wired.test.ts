// HTTPS, mTLS, XFCC, 421, h2 and h2c through a whole dataplane: configs published in Redis,
// applied by the runtime, served by the listener set and the proxy, answered by the echo backend.
import { once } from 'node:events';
import { connect as netConnect, createServer as createNetServer, type AddressInfo } from 'node:net';
import { request as httpsRequest } from 'node:https';
import { connect as h2connect, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import type { X509Certificate } from 'node:crypto';
import t from 'tap';
import { WebSocket, type ClientOptions } from 'ws';
import type { Certificate, DataplaneConfig, HttpsListener } from '../../api-types/dataplane-config.ts';
import { startEcho, type EchoServer } from '../harness/echo/server.ts';
import { freePorts, redis, redisClient } from '../harness/index.ts';
import { createCertificateAuthority, type IssuedCertificate } from '../harness/pki.ts';
import { action, dataplaneConfig, echoCluster, httpClient, newGateway, publish, published, rule, startDataplane, waitForVersion, type EchoAnswer } from './dataplane-fixtures.ts';

const ca = await createCertificateAuthority({ commonName: 'wired-https-ca' });
const clientCa = await createCertificateAuthority({ commonName: 'wired-client-ca' });
const aCert = await ca.issueServer({ commonName: 'a', dnsNames: ['a.example.test', 'mtls.example.test'], uris: ['spiffe://weir/gw'] });
const wildCert = await ca.issueServer({ commonName: 'wild', dnsNames: ['*.wild.example.test'] });
const rotatedCert = await ca.issueServer({ commonName: 'a-rotated', dnsNames: ['a.example.test', 'mtls.example.test'], uris: ['spiffe://weir/gw'] });
const alice = await clientCa.issueClient({ commonName: 'alice', organizations: ['Acme'], uris: ['spiffe://acme/alice'], dnsNames: ['alice.acme.test'] });

const certificate = (cert: IssuedCertificate, dnsNames: string[]): Certificate => ({ certPem: cert.chainPem, keyPem: cert.keyPem, dnsNames });
const FORGED = 'By=spiffe://evil;Hash=00;Subject="CN=admin"';
const aliceHash = alice.x509.fingerprint256.replaceAll(':', '').toLowerCase();
const ALICE_XFCC = `By=spiffe://weir/gw;Hash=${aliceHash};Subject="CN=alice,O=Acme";URI=spiffe://acme/alice;DNS=alice.acme.test`;

interface HttpsAnswer {
  status: number;
  echo: EchoAnswer | undefined;
  /** CN of the certificate the server presented. */
  served: string;
}

/** One HTTP/1.1 request over a fresh TLS connection. */
async function httpsGet(port: number, options: { servername: string; host?: string; headers?: Record<string, string>; client?: IssuedCertificate }): Promise<HttpsAnswer> {
  const req = httpsRequest({
    host: '127.0.0.1',
    port,
    path: '/',
    servername: options.servername,
    ca: ca.certPem,
    agent: false,
    headers: { host: options.host ?? options.servername, ...options.headers },
    ...(options.client === undefined ? {} : { cert: options.client.chainPem, key: options.client.keyPem }),
  });
  req.end();
  const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
  const socket = res.socket as { getPeerX509Certificate?: () => X509Certificate | undefined };
  const served = socket.getPeerX509Certificate?.()?.subject ?? '';
  let text = '';
  res.setEncoding('utf8');
  for await (const chunk of res) text += chunk as string;
  return { status: res.statusCode ?? 0, echo: text.startsWith('{') ? (JSON.parse(text) as EchoAnswer) : undefined, served };
}

async function h2get(session: ClientHttp2Session, authority: string, headers: Record<string, string> = {}): Promise<{ status: number; echo: EchoAnswer | undefined }> {
  const stream = session.request({ ':path': '/h2', ':authority': authority, ...headers });
  stream.end();
  const [response] = (await once(stream, 'response')) as [IncomingHttpHeaders];
  let text = '';
  stream.setEncoding('utf8');
  for await (const chunk of stream) text += chunk as string;
  return { status: Number(response[':status']), echo: text.startsWith('{') ? (JSON.parse(text) as EchoAnswer) : undefined };
}

function https(id: string, port: number, hostname: string | undefined, certificates: number[], extra: Partial<HttpsListener> = {}): HttpsListener {
  return { id, port, protocol: 'HTTPS', ...(hostname === undefined ? {} : { hostname }), certificates, rules: [rule(0)], ...extra };
}

let echo: EchoServer;
t.before(async () => { echo = await startEcho({ log: () => undefined }); });
t.teardown(() => echo.close());

t.test('HTTPS, mTLS and XFCC served from published configs', async (t) => {
  const { url } = await redis();
  const client = await redisClient(t);
  const [sniPort, mtlsPort, fallbackPort, plainPort] = (await freePorts(4)) as [number, number, number, number];
  const gateway = newGateway();
  const dataplane = await startDataplane(t, url, gateway);
  const config = (aCertificate: number): DataplaneConfig => ({
    ...dataplaneConfig(gateway, {
      listeners: [
        https('test/gw/a', sniPort, 'a.example.test', [aCertificate]),
        https('test/gw/wild', sniPort, '*.wild.example.test', [1]),
        https('test/gw/mtls', mtlsPort, undefined, [0], { frontendValidation: { caBundle: 0, mode: 'AllowValidOnly' } }),
        https('test/gw/fallback', fallbackPort, undefined, [0], { frontendValidation: { caBundle: 0, mode: 'AllowInsecureFallback' } }),
        { id: 'test/gw/http', port: plainPort, protocol: 'HTTP', rules: [rule(0)] },
      ],
      actions: [action('echo', 'echo')],
      clusters: [echoCluster('echo', [echo], 'ws')],
    }),
    certificates: [certificate(aCert, ['a.example.test', 'mtls.example.test']), certificate(wildCert, ['*.wild.example.test']), certificate(rotatedCert, ['a.example.test'])],
    caBundles: [clientCa.certPem],
    xfcc: { mode: 'SanitizeSet', subject: true, cert: false, chain: false, uri: true, dns: true },
  });
  await publish(client, gateway, published(config(0), 1));
  await waitForVersion(dataplane, 1);

  t.test('SNI picks the listener certificate; requests reach the backend over HTTP/1.1', async (t) => {
    const a = await httpsGet(sniPort, { servername: 'a.example.test' });
    t.equal(a.status, 200);
    t.equal(a.served, 'CN=a');
    t.equal(a.echo?.proto, 'HTTP/1.1');
    t.same(a.echo?.headers['X-Forwarded-Proto'], ['https']);
    const wild = await httpsGet(sniPort, { servername: 'x.wild.example.test' });
    t.equal(wild.served, 'CN=wild');
    t.equal(wild.status, 200);
  });

  t.test('h2 over TLS, and 421 when the authority belongs to the other listener', async (t) => {
    const session = h2connect(`https://127.0.0.1:${sniPort}`, { servername: 'a.example.test', ca: ca.certPem });
    t.teardown(() => { session.close(); });
    t.equal(session.alpnProtocol ?? (await once(session, 'connect'), session.alpnProtocol), 'h2');
    const ok = await h2get(session, 'a.example.test');
    t.equal(ok.status, 200);
    t.equal(ok.echo?.host, 'a.example.test', 'the backend gets :authority as Host');
    t.same(ok.echo?.headers['X-Forwarded-Host'], ['a.example.test']);
    t.equal(ok.echo?.path, '/h2');
    const misdirected = await h2get(session, 'x.wild.example.test');
    t.equal(misdirected.status, 421, 'coalesced request for another listener');
    const http1 = await httpsGet(sniPort, { servername: 'a.example.test', host: 'x.wild.example.test' });
    t.equal(http1.status, 421, 'HTTP/1.1 Host of another listener');
  });

  t.test('WebSocket over TLS (HTTP/1.1 upgrade on the HTTPS port)', async (t) => {
    // ws hands `servername` on to tls.connect (its ClientOptions type does not list it).
    const options: ClientOptions & { servername: string } = { servername: 'a.example.test', ca: ca.certPem, headers: { host: 'a.example.test' } };
    const socket = new WebSocket(`wss://127.0.0.1:${sniPort}/ws`, options);
    t.teardown(() => { socket.terminate(); });
    await once(socket, 'open');
    socket.send('over tls');
    const [reply] = (await once(socket, 'message')) as [Buffer];
    t.equal(reply.toString(), 'over tls');
  });

  t.test('AllowValidOnly: no client certificate, no connection; XFCC byte-exact (SanitizeSet default details)', async (t) => {
    await t.rejects(httpsGet(mtlsPort, { servername: 'mtls.example.test' }));
    const ok = await httpsGet(mtlsPort, { servername: 'mtls.example.test', client: alice, headers: { 'x-forwarded-client-cert': FORGED } });
    t.equal(ok.status, 200);
    t.same(ok.echo?.headers['X-Forwarded-Client-Cert'], [ALICE_XFCC], 'the client header is replaced by ours');
  });

  t.test('AllowInsecureFallback: connection kept, no identity forwarded, forged XFCC stripped', async (t) => {
    const anonymous = await httpsGet(fallbackPort, { servername: 'mtls.example.test', headers: { 'x-forwarded-client-cert': FORGED } });
    t.equal(anonymous.status, 200);
    t.equal(anonymous.echo?.headers['X-Forwarded-Client-Cert'], undefined);
    const verified = await httpsGet(fallbackPort, { servername: 'mtls.example.test', client: alice });
    t.same(verified.echo?.headers['X-Forwarded-Client-Cert'], [ALICE_XFCC]);
  });

  t.test('plain HTTP: forged XFCC stripped; h2c with prior knowledge beside HTTP/1.1', async (t) => {
    const get = httpClient(t);
    const forged = await get(plainPort, '/', { host: 'plain.example.test', headers: { 'x-forwarded-client-cert': FORGED } });
    t.equal(forged.status, 200);
    t.equal(forged.echo?.headers['X-Forwarded-Client-Cert'], undefined);
    const session = h2connect(`http://127.0.0.1:${plainPort}`);
    t.teardown(() => { session.close(); });
    const h2c = await h2get(session, 'plain.example.test', { 'x-forwarded-client-cert': FORGED, 'x-test': 'h2c' });
    t.equal(h2c.status, 200);
    t.equal(h2c.echo?.host, 'plain.example.test');
    t.same(h2c.echo?.headers['X-Test'], ['h2c']);
    t.equal(h2c.echo?.headers['X-Forwarded-Client-Cert'], undefined);
  });

  t.test('a new version swaps certificates for new handshakes; an open h2 session keeps working', async (t) => {
    const session = h2connect(`https://127.0.0.1:${sniPort}`, { servername: 'a.example.test', ca: ca.certPem });
    t.teardown(() => { session.close(); });
    t.equal((await h2get(session, 'a.example.test')).status, 200);
    await publish(client, gateway, published(config(2), 2));
    await waitForVersion(dataplane, 2);
    t.equal((await httpsGet(sniPort, { servername: 'a.example.test' })).served, 'CN=a-rotated');
    t.equal((await h2get(session, 'a.example.test')).status, 200, 'existing session still served');
  });

  t.test('a port switching from HTTPS to HTTP is re-opened with the new protocol', async (t) => {
    const next = config(0);
    next.listeners = next.listeners.map((listener) => (listener.port === fallbackPort ? { id: 'test/gw/fallback', port: fallbackPort, protocol: 'HTTP', rules: [rule(0)] } : listener));
    await publish(client, gateway, published(next, 3));
    await waitForVersion(dataplane, 3);
    const get = httpClient(t);
    t.equal((await get(fallbackPort, '/', { host: 'plain.example.test' })).status, 200);
  });

  t.test('a port moving to a TCP listener and back to HTTPS', async (t) => {
    const tcpBackend = createNetServer((socket) => { socket.on('error', () => undefined); socket.end('tcp\n'); });
    tcpBackend.listen(0, '127.0.0.1');
    await once(tcpBackend, 'listening');
    t.teardown(() => { tcpBackend.close(); });
    const tcp = config(0);
    tcp.listeners = [
      ...tcp.listeners.filter((listener) => listener.port !== fallbackPort),
      { id: 'test/gw/tcp', port: fallbackPort, protocol: 'TCP', route: { route: { kind: 'TCPRoute', namespace: 'test', name: 't' }, hostnames: [], backends: [{ clusterId: 'tcp', weight: 1 }] } },
    ];
    tcp.clusters = [...tcp.clusters, { id: 'tcp', backend: { kind: 'Service', namespace: 'test', name: 'tcp' }, protocol: 'tcp', endpoints: [{ address: '127.0.0.1', port: (tcpBackend.address() as AddressInfo).port, ready: true }] }];
    await publish(client, gateway, published(tcp, 4));
    await waitForVersion(dataplane, 4);
    const socket = netConnect(fallbackPort, '127.0.0.1');
    let data = '';
    socket.setEncoding('utf8');
    for await (const chunk of socket) data += chunk as string;
    t.equal(data, 'tcp\n', 'served by the TCP listener');
    await publish(client, gateway, published(config(0), 5));
    await waitForVersion(dataplane, 5);
    const verified = await httpsGet(fallbackPort, { servername: 'mtls.example.test', client: alice });
    t.same(verified.echo?.headers['X-Forwarded-Client-Cert'], [ALICE_XFCC], 'HTTPS again');
  });
});

t.test('HTTP/2 sessions: a silent open stream is not cut by the idle timeout; an idle session is closed', async (t) => {
  const { url } = await redis();
  const client = await redisClient(t);
  const [port] = (await freePorts(1)) as [number];
  const gateway = newGateway();
  const dataplane = await startDataplane(t, url, gateway);
  await publish(client, gateway, published(dataplaneConfig(gateway, {
    listeners: [{ id: 'test/gw/http', port, protocol: 'HTTP', rules: [rule(0)] }],
    actions: [action('echo', 'echo')],
    clusters: [echoCluster('echo', [echo])],
    limits: { idleTimeoutMs: 300 },
  }), 1));
  await waitForVersion(dataplane, 1);
  const session = h2connect(`http://127.0.0.1:${port}`);
  t.teardown(() => { session.destroy(); });
  const closed = once(session, 'close');
  const stream = session.request({ ':path': '/slow?delay=900ms', ':authority': 'idle.example.test' });
  stream.end();
  const [response] = (await once(stream, 'response')) as [IncomingHttpHeaders];
  t.equal(response[':status'], 200, 'answered after three idle timeouts');
  stream.resume();
  await once(stream, 'end');
  const started = performance.now();
  await closed;
  t.ok(performance.now() - started < 3_000, 'the idle session was closed by the server');
});

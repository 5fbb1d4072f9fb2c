// TLS passthrough (to a TLS echo backend the gateway cannot decrypt), TLS Terminate to plain
// TCP, both mixed on one port, TCPRoute weights, hot swap, and hostile clients.
import { once } from 'node:events';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import t from 'tap';
import { DEFAULT_LIMITS } from '../../api-types/limits.ts';
import type { Cluster, DataplaneConfig, Listener, StreamRoute } from '../../api-types/dataplane-config.ts';
import { DATAPLANE_CONFIG_SCHEMA } from '../../api-types/dataplane-config.ts';
import { compileStreamPorts } from '../../dataplane/stream/routes.ts';
import { StreamListenerSet } from '../../dataplane/stream/server.ts';
import { SecureContextCache } from '../../dataplane/tls/certificates.ts';
import { createCertificateAuthority } from '../harness/pki.ts';
import { freePorts } from '../harness/ports.ts';

const ca = await createCertificateAuthority({ commonName: 'stream-ca' });
const backendCert = await ca.issueServer({ commonName: 'backend', dnsNames: ['pass.example.test', 'x.wild.example.test'] });
const gatewayCert = await ca.issueServer({ commonName: 'gateway', dnsNames: ['term.example.test'] });

/** A backend that answers every connection with `<name>:` and then echoes. */
async function echoBackend(name: string, tls = false): Promise<{ server: Server; port: number }> {
  const onSocket = (socket: Socket | TLSSocket): void => {
    socket.on('error', () => undefined);
    socket.write(`${name}:`);
    socket.pipe(socket);
  };
  const server = tls
    ? createTlsServer({ cert: backendCert.chainPem, key: backendCert.keyPem, allowHalfOpen: true }, onSocket)
    : createServer({ allowHalfOpen: true }, onSocket);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => new Promise<void>((resolve) => { server.close(() => { resolve(); }); }));
  return { server, port: (server.address() as { port: number }).port };
}

function cluster(id: string, ports: number[]): Cluster {
  return {
    id,
    backend: { kind: 'Service', namespace: 'default', name: id },
    protocol: 'tcp',
    endpoints: ports.map((port) => ({ address: '127.0.0.1', port, ready: true })),
  };
}

function route(name: string, hostnames: string[], backends: [string | undefined, number][]): StreamRoute {
  return {
    route: { kind: 'TLSRoute', namespace: 'default', name },
    hostnames,
    backends: backends.map(([clusterId, weight]) => (clusterId === undefined ? { weight } : { clusterId, weight })),
  };
}

function config(listeners: Listener[], clusters: Cluster[]): DataplaneConfig {
  return {
    schema: DATAPLANE_CONFIG_SCHEMA,
    gateway: { namespace: 'default', name: 'gw' },
    listeners,
    actions: [],
    clusters,
    certificates: [{ certPem: gatewayCert.chainPem, keyPem: gatewayCert.keyPem, dnsNames: ['term.example.test'] }],
    caBundles: [],
    xfcc: { mode: 'SanitizeSet', subject: true, cert: false, chain: false, uri: true, dns: true },
    trustedProxyHops: 0,
  };
}

const cache = new SecureContextCache();

async function streams(t: { teardown(fn: () => unknown): void }, cfg: DataplaneConfig, headersTimeoutMs = 2000): Promise<StreamListenerSet> {
  const set = new StreamListenerSet({ host: '127.0.0.1', connectTimeoutMs: 1000 });
  await set.apply(compileStreamPorts(cfg, cache), { ...DEFAULT_LIMITS, headersTimeoutMs });
  t.teardown(() => set.closeAll());
  return set;
}

/** Reads until `count` bytes arrived (or the socket ends). */
async function read(socket: Socket | TLSSocket, count: number): Promise<string> {
  let data = '';
  socket.setEncoding('utf8');
  while (data.length < count) {
    const chunk = (await Promise.race([once(socket, 'data'), once(socket, 'end').then(() => [undefined])])) as [string | undefined];
    if (chunk[0] === undefined) break;
    data += chunk[0];
  }
  return data;
}

async function tlsExchange(port: number, servername: string, message: string): Promise<string> {
  const socket = tlsConnect({ host: '127.0.0.1', port, servername, ca: ca.certPem });
  await once(socket, 'secureConnect');
  const prefixLength = (await read(socket, 1)).length;
  socket.write(message);
  const rest = await read(socket, message.length - 0);
  socket.destroy();
  return `${String(prefixLength)}|${rest}`;
}

async function closedWithoutData(socket: Socket): Promise<boolean> {
  let got = false;
  socket.on('data', () => { got = true; });
  socket.on('error', () => undefined);
  await once(socket, 'close');
  return !got;
}

t.test('passthrough: SNI picks the route, the backend terminates TLS', async (t) => {
  const [port] = await freePorts(1);
  const pass = await echoBackend('pass', true);
  const cfg = config([
    { id: 'gw/tls', port: port!, protocol: 'TLS', mode: 'Passthrough', certificates: [], routes: [
      route('exact', ['pass.example.test'], [['pass', 1]]),
      route('wild', ['*.wild.example.test'], [['pass', 1]]),
    ] },
  ], [cluster('pass', [pass.port])]);
  await streams(t, cfg);
  const socket = tlsConnect({ host: '127.0.0.1', port: port!, servername: 'pass.example.test', ca: ca.certPem });
  await once(socket, 'secureConnect');
  t.equal(socket.getPeerX509Certificate()?.subject, 'CN=backend', 'the certificate is the backend\'s: not terminated');
  t.equal(await read(socket, 5), 'pass:');
  const big = 'x'.repeat(2 * 1024 * 1024);
  socket.write(big);
  t.equal((await read(socket, big.length)).length, big.length, '2 MB echoed through with backpressure');
  socket.destroy();

  const wild = tlsConnect({ host: '127.0.0.1', port: port!, servername: 'x.wild.example.test', ca: ca.certPem });
  await once(wild, 'secureConnect');
  t.equal(await read(wild, 5), 'pass:', 'wildcard route');
  wild.destroy();

  const nomatch = tlsConnect({ host: '127.0.0.1', port: port!, servername: 'other.example.test', ca: ca.certPem });
  const [error] = (await once(nomatch, 'error')) as [Error];
  t.ok(error, 'no route for the name: connection closed');
});

t.test('hostile clients: garbage, silence, never-ending hello', async (t) => {
  const [port] = await freePorts(1);
  const pass = await echoBackend('pass', true);
  await streams(t, config([
    { id: 'gw/tls', port: port!, protocol: 'TLS', mode: 'Passthrough', certificates: [], routes: [route('r', ['pass.example.test'], [['pass', 1]])] },
  ], [cluster('pass', [pass.port])]), 300);
  const garbage = netConnect(port!, '127.0.0.1');
  garbage.write('GET / HTTP/1.1\r\nHost: pass.example.test\r\n\r\n');
  t.ok(await closedWithoutData(garbage), 'plain HTTP dropped');
  const started = Date.now();
  const silent = netConnect(port!, '127.0.0.1');
  t.ok(await closedWithoutData(silent), 'silent client dropped');
  t.ok(Date.now() - started >= 250, 'after the ClientHello deadline');
  const slow = netConnect(port!, '127.0.0.1');
  slow.write(Buffer.from([0x16, 0x03, 0x01, 0x40, 0x00, 0x01]));
  t.ok(await closedWithoutData(slow), 'partial hello dropped at the deadline');
  // The listener is still healthy.
  t.equal(await tlsExchange(port!, 'pass.example.test', 'ok'), '5|ok');
});

t.test('terminate and passthrough mixed on one port; terminate pipes plaintext', async (t) => {
  const [port] = await freePorts(1);
  const pass = await echoBackend('pass', true);
  const plain = await echoBackend('plain');
  await streams(t, config([
    { id: 'gw/term', port: port!, hostname: 'term.example.test', protocol: 'TLS', mode: 'Terminate', certificates: [0], routes: [route('t', ['term.example.test'], [['plain', 1]])] },
    { id: 'gw/pass', port: port!, hostname: 'pass.example.test', protocol: 'TLS', mode: 'Passthrough', certificates: [], routes: [route('p', ['pass.example.test'], [['pass', 1]])] },
  ], [cluster('pass', [pass.port]), cluster('plain', [plain.port])]));
  const term = tlsConnect({ host: '127.0.0.1', port: port!, servername: 'term.example.test', ca: ca.certPem });
  await once(term, 'secureConnect');
  t.equal(term.getPeerX509Certificate()?.subject, 'CN=gateway', 'gateway terminated');
  t.equal(await read(term, 6), 'plain:');
  term.write('hello');
  t.equal(await read(term, 5), 'hello');
  term.destroy();
  t.equal(await tlsExchange(port!, 'pass.example.test', 'abc'), '5|abc', 'passthrough on the same port');
});

t.test('BackendTLSPolicy on stream backends: Terminate and TCP listeners re-encrypt and validate, Passthrough does not', async (t) => {
  const [port, tcpPort] = await freePorts(2);
  // A TLS backend of this test's own that drops its connections when the test ends: the
  // handshake the gateway aborts (wrong name) would otherwise leave a half-open socket behind.
  const backendSockets = new Set<TLSSocket>();
  const backendServer = createTlsServer({ cert: backendCert.chainPem, key: backendCert.keyPem }, (socket) => {
    backendSockets.add(socket);
    socket.on('close', () => backendSockets.delete(socket));
    socket.on('error', () => undefined);
    socket.write('secure:');
    socket.pipe(socket);
  });
  backendServer.on('tlsClientError', (_error, socket) => { socket.destroy(); });
  backendServer.listen(0, '127.0.0.1');
  await once(backendServer, 'listening');
  t.teardown(() => new Promise<void>((resolve) => {
    for (const socket of backendSockets) socket.destroy();
    backendServer.close(() => { resolve(); });
  }));
  const secure = { port: (backendServer.address() as { port: number }).port };
  const tlsCluster = (id: string, hostname: string): Cluster => ({ ...cluster(id, [secure.port]), tls: { hostname, caBundle: 0, subjectAltNames: [] } });
  await streams(t, {
    ...config([
      { id: 'gw/term', port: port!, hostname: 'term.example.test', protocol: 'TLS', mode: 'Terminate', certificates: [0], routes: [route('t', ['term.example.test'], [['good', 1]])] },
      { id: 'gw/pass', port: port!, hostname: 'pass.example.test', protocol: 'TLS', mode: 'Passthrough', certificates: [], routes: [route('p', ['pass.example.test'], [['good', 1]])] },
      { id: 'gw/wrong', port: port!, hostname: '*.wild.example.test', protocol: 'TLS', mode: 'Terminate', certificates: [0], routes: [route('w', ['*.wild.example.test'], [['wrong-name', 1]])] },
      { id: 'gw/tcp', port: tcpPort!, protocol: 'TCP', route: { route: { kind: 'TCPRoute', namespace: 'default', name: 'tcp' }, hostnames: [], backends: [{ clusterId: 'good', weight: 1 }] } },
    ], [tlsCluster('good', 'pass.example.test'), tlsCluster('wrong-name', 'other.example.test')]),
    caBundles: [ca.certPem],
    certificates: [{ certPem: gatewayCert.chainPem, keyPem: gatewayCert.keyPem, dnsNames: ['term.example.test', '*.wild.example.test'] }],
  });
  const term = tlsConnect({ host: '127.0.0.1', port: port!, servername: 'term.example.test', ca: ca.certPem });
  await once(term, 'secureConnect');
  t.equal(term.getPeerX509Certificate()?.subject, 'CN=gateway', 'the gateway terminated the client TLS');
  t.equal(await read(term, 7), 'secure:', 'and reached the TLS backend over a second, validated TLS connection');
  term.write('hello');
  t.equal(await read(term, 5), 'hello');
  term.destroy();

  t.equal(await tlsExchange(port!, 'pass.example.test', 'abc'), '7|abc', 'passthrough pipes the client TLS untouched (the backend terminates it)');

  const tcp = netConnect({ host: '127.0.0.1', port: tcpPort! });
  t.equal(await read(tcp, 7), 'secure:', 'a TCP listener re-encrypts too');
  tcp.destroy();

  // The gateway's own certificate does not name x.wild.example.test; this test is about the backend side.
  const wrong = tlsConnect({ host: '127.0.0.1', port: port!, servername: 'x.wild.example.test', ca: ca.certPem, checkServerIdentity: () => undefined });
  await once(wrong, 'secureConnect');
  t.ok(await closedWithoutData(wrong), 'a backend certificate that does not match the policy hostname: connection closed');
});

t.test('TCPRoute weights and invalid backends', async (t) => {
  const [port, port2] = await freePorts(2);
  const a = await echoBackend('a');
  const b = await echoBackend('b');
  await streams(t, config([
    { id: 'gw/tcp', port: port!, protocol: 'TCP', route: { ...route('tcp', [], [['a', 3], ['b', 1]]), route: { kind: 'TCPRoute', namespace: 'default', name: 'tcp' } } },
    { id: 'gw/tcp-invalid', port: port2!, protocol: 'TCP', route: route('bad', [], [[undefined, 1]]) },
  ], [cluster('a', [a.port]), cluster('b', [b.port])]));
  const counts: Record<string, number> = { a: 0, b: 0 };
  for (let i = 0; i < 40; i++) {
    const socket = netConnect(port!, '127.0.0.1');
    const name = (await read(socket, 2)).slice(0, 1);
    counts[name] = (counts[name] ?? 0) + 1;
    socket.destroy();
  }
  t.same(counts, { a: 30, b: 10 }, 'smooth weighted round robin, 3:1');
  t.ok(await closedWithoutData(netConnect(port2!, '127.0.0.1')), 'invalid backend: connection refused');
});

t.test('half-close travels both ways', async (t) => {
  const [port] = await freePorts(1);
  const backend = createServer({ allowHalfOpen: true }, (socket) => {
    let got = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => { got += chunk; });
    socket.on('end', () => { socket.end(`got ${got}`); });
  });
  backend.listen(0, '127.0.0.1');
  await once(backend, 'listening');
  t.teardown(() => { backend.close(); });
  await streams(t, config([{ id: 'gw/tcp', port: port!, protocol: 'TCP', route: route('tcp', [], [['h', 1]]) }], [cluster('h', [(backend.address() as { port: number }).port])]));
  const socket = netConnect({ port: port!, host: '127.0.0.1', allowHalfOpen: true });
  socket.end('request');
  t.equal(await read(socket, 100), 'got request', 'the answer arrives after our FIN');
});

t.test('hot swap: open connections stay, new ones follow the new routes; unreachable backend', async (t) => {
  const [port] = await freePorts(1);
  const a = await echoBackend('a');
  const b = await echoBackend('b');
  const [dead] = await freePorts(1);
  const set = await streams(t, config([{ id: 'gw/tcp', port: port!, protocol: 'TCP', route: route('tcp', [], [['a', 1]]) }], [cluster('a', [a.port])]));
  const before = netConnect(port!, '127.0.0.1');
  t.equal(await read(before, 2), 'a:');
  await set.apply(compileStreamPorts(config([{ id: 'gw/tcp', port: port!, protocol: 'TCP', route: route('tcp', [], [['b', 1]]) }], [cluster('b', [b.port])]), cache));
  const after = netConnect(port!, '127.0.0.1');
  t.equal(await read(after, 2), 'b:', 'new connection to the new backend');
  before.write('still');
  t.equal(await read(before, 5), 'still', 'old connection still piped to the old backend');
  before.destroy();
  after.destroy();
  await set.apply(compileStreamPorts(config([{ id: 'gw/tcp', port: port!, protocol: 'TCP', route: route('tcp', [], [['d', 1]]) }], [cluster('d', [dead!, b.port])]), cache));
  const failover = netConnect(port!, '127.0.0.1');
  t.equal(await read(failover, 2), 'b:', 'a refused endpoint is skipped for the next one');
  failover.destroy();
  await set.apply(new Map());
  t.same(set.ports, [], 'port closed when its listener is gone');
});

// Slow and silent clients on the other listener kinds: HTTPS (TLS handshake, then HTTP/1.1
// headers), TLS passthrough (ClientHello), TCP (connection cap) and idle tunnels (TCP streams and
// WebSocket upgrades). Each is closed at its deadline, and counted.
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import t from 'tap';
import { WebSocket } from 'ws';
import type { Cluster, StreamRoute } from '../../api-types/dataplane-config.ts';
import { freePorts, type TestContext } from '../harness/index.ts';
import { createCertificateAuthority } from '../harness/pki.ts';
import { echoCluster, rule } from '../integration/dataplane-fixtures.ts';
import { counterValue, rawClient, serveWithLimits } from './limits-fixtures.ts';

const HEADERS_TIMEOUT_MS = 400;
const TUNNEL_IDLE_MS = 500;
const SLACK_MS = 600;
const limits = { headersTimeoutMs: HEADERS_TIMEOUT_MS, requestReceiveTimeoutMs: 2_000, tunnelIdleTimeoutMs: TUNNEL_IDLE_MS };

const ca = await createCertificateAuthority({ commonName: 'limits-ca' });
const serverCert = await ca.issueServer({ commonName: 'limits', dnsNames: ['secure.example.test'] });

/** A TCP backend that echoes what it receives. */
async function tcpEcho(t: TestContext): Promise<Cluster> {
  const server = createServer((socket: Socket) => {
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => new Promise<void>((resolve) => { server.close(() => { resolve(); }); }));
  const port = (server.address() as { port: number }).port;
  return { id: 'tcp-echo', backend: { kind: 'Service', namespace: 'test', name: 'tcp-echo' }, protocol: 'tcp', endpoints: [{ address: '127.0.0.1', port, ready: true }] };
}

function streamRoute(kind: 'TLSRoute' | 'TCPRoute', hostnames: string[]): StreamRoute {
  return { route: { kind, namespace: 'test', name: 'r' }, hostnames, backends: [{ weight: 1, clusterId: 'tcp-echo' }] };
}

t.test('HTTPS: a stalled TLS handshake is dropped at the headers deadline; slow headers after it get 408', async (t) => {
  const [port] = (await freePorts(1)) as [number];
  const { dataplane } = await serveWithLimits(t, limits, (echo) => ({
    listeners: [{ id: 'test/gw/https', port, protocol: 'HTTPS', hostname: 'secure.example.test', certificates: [0], rules: [rule(0)] }],
    clusters: [echoCluster('echo', [echo])],
    certificates: [{ certPem: serverCert.chainPem, keyPem: serverCert.keyPem, dnsNames: ['secure.example.test'] }],
  }));
  // No ClientHello at all, and half of one.
  const silent = await rawClient(port);
  const partial = await rawClient(port);
  partial.socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00]));
  for (const [what, client] of [['silent', silent], ['half a ClientHello', partial]] as const) {
    const ms = await client.closed;
    t.equal(client.received(), '', `${what}: no answer`);
    t.ok(ms >= HEADERS_TIMEOUT_MS - 50 && ms < HEADERS_TIMEOUT_MS + SLACK_MS, `${what}: closed after ${Math.round(ms)} ms`);
  }
  t.equal(await counterValue(dataplane, 'weir_client_connections_closed_total', { port: String(port), reason: 'handshake_timeout' }), 2, 'counted');

  const secure = tlsConnect({ host: '127.0.0.1', port, servername: 'secure.example.test', ca: ca.certPem, ALPNProtocols: ['http/1.1'] });
  secure.on('error', () => undefined);
  await once(secure, 'secureConnect');
  const started = performance.now();
  let answer = '';
  secure.setEncoding('latin1');
  secure.on('data', (chunk: string) => { answer += chunk; });
  secure.write('GET / HTTP/1.1\r\nhost: secure.example.test\r\n');
  await once(secure, 'close');
  t.match(answer, /^HTTP\/1\.1 408 Request Timeout\r\n/, 'unfinished headers over TLS: 408');
  t.ok(performance.now() - started < HEADERS_TIMEOUT_MS + SLACK_MS, `after ${Math.round(performance.now() - started)} ms`);
});

t.test('TLS passthrough: no ClientHello in time means a closed connection', async (t) => {
  const [port] = (await freePorts(1)) as [number];
  const backend = await tcpEcho(t);
  const { dataplane } = await serveWithLimits(t, limits, () => ({
    listeners: [{ id: 'test/gw/tls', port, protocol: 'TLS', mode: 'Passthrough', certificates: [], routes: [streamRoute('TLSRoute', ['pass.example.test'])] }],
    actions: [],
    clusters: [backend],
  }));
  const client = await rawClient(port);
  client.socket.write(Buffer.from([0x16, 0x03, 0x01]));
  const ms = await client.closed;
  t.equal(client.received(), '');
  t.ok(ms >= HEADERS_TIMEOUT_MS - 50 && ms < HEADERS_TIMEOUT_MS + SLACK_MS, `closed after ${Math.round(ms)} ms`);
  t.equal(await counterValue(dataplane, 'weir_client_connections_closed_total', { port: String(port), reason: 'handshake_timeout' }), 1);
});

t.test('TCP: the connection cap holds, and a silent tunnel is closed after the tunnel idle timeout', async (t) => {
  const [port] = (await freePorts(1)) as [number];
  const backend = await tcpEcho(t);
  const { dataplane } = await serveWithLimits(t, { ...limits, maxConnections: 3 }, () => ({
    listeners: [{ id: 'test/gw/tcp', port, protocol: 'TCP', route: streamRoute('TCPRoute', []) }],
    actions: [],
    clusters: [backend],
  }));
  const held = await Promise.all([rawClient(port), rawClient(port), rawClient(port)]);
  for (const client of held) client.socket.write('ping');
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.ok(held.every((client) => client.received() === 'ping'), 'three tunnels echo');
  const extra = await rawClient(port);
  const refusedMs = await extra.closed;
  t.ok(refusedMs < 200 && extra.received() === '', 'a fourth connection is refused at once');
  t.equal(await counterValue(dataplane, 'weir_client_connections_closed_total', { port: String(port), reason: 'max_connections' }), 1);
  // Now silent: each tunnel is closed once both directions were quiet for the idle timeout.
  const idleMs = await Promise.all(held.map((client) => client.closed));
  t.ok(idleMs.every((ms) => ms >= TUNNEL_IDLE_MS && ms < 100 + TUNNEL_IDLE_MS + SLACK_MS), `idle tunnels closed after ${idleMs.map(Math.round).join(', ')} ms`);
  t.equal(await counterValue(dataplane, 'weir_client_connections_closed_total', { port: String(port), reason: 'tunnel_idle' }), 3);
});

t.test('WebSocket: an upgraded tunnel silent in both directions is closed after the tunnel idle timeout', async (t) => {
  const [port] = (await freePorts(1)) as [number];
  const { dataplane } = await serveWithLimits(t, limits, (echo) => ({
    listeners: [{ id: 'test/gw/http', port, protocol: 'HTTP', rules: [rule(0)] }],
    clusters: [echoCluster('echo', [echo], 'ws')],
  }));
  const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { host: 'ws.example.test' } });
  await once(socket, 'open');
  socket.send('hello');
  const [echoed] = (await once(socket, 'message')) as [Buffer];
  t.equal(echoed.toString(), 'hello', 'the tunnel works');
  const started = performance.now();
  await once(socket, 'close');
  const ms = performance.now() - started;
  t.ok(ms >= TUNNEL_IDLE_MS - 50 && ms < TUNNEL_IDLE_MS + SLACK_MS, `closed after ${Math.round(ms)} ms of silence`);
  t.equal(await counterValue(dataplane, 'weir_client_connections_closed_total', { port: String(port), reason: 'tunnel_idle' }), 1);
});

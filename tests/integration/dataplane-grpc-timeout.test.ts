// Real Redis, real HTTP/2 both ways: a gRPC request's grpc-timeout bounds the wait for the
// backend (together with the route's request timeout); expiry answers DEADLINE_EXCEEDED as a
// trailers-only response, or as trailers when the response had started, and cancels the backend
// stream.
import { once } from 'node:events';
import { connect, constants, createServer, type ClientHttp2Session, type IncomingHttpHeaders, type IncomingHttpStatusHeader, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import type { Cluster } from '../../api-types/dataplane-config.ts';
import { parseGrpcTimeout } from '../../dataplane/grpc/timeout.ts';
import { freePort, redis, redisClient, type TestContext } from '../harness/index.ts';
import { action, dataplaneConfig, newGateway, publish, published, rule, startDataplane, waitForVersion } from './dataplane-fixtures.ts';

interface Backend {
  port: number;
  /** How each backend stream ended, by path: `ended` (answered) or `cancelled` (reset by the dataplane). */
  outcomes: Map<string, string>;
}

/**
 * An h2c gRPC-shaped backend: `…/Slow` answers after 2 s, `/svc/Stream` sends headers and one
 * message at once and the rest after 2 s, anything else answers at once.
 */
async function backend(t: TestContext): Promise<Backend> {
  const outcomes = new Map<string, string>();
  const server = createServer();
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    const path = String(headers[':path']);
    stream.on('close', () => { outcomes.set(path, stream.rstCode === constants.NGHTTP2_NO_ERROR && stream.sentTrailers !== undefined ? 'ended' : 'cancelled'); });
    stream.on('error', () => undefined);
    stream.resume();
    const finish = (): void => {
      if (stream.destroyed) return;
      stream.end(Buffer.from([0, 0, 0, 0, 2, 0x6f, 0x6b]));
    };
    const respond = (): void => { stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true }); };
    stream.on('wantTrailers', () => { stream.sendTrailers({ 'grpc-status': '0' }); });
    if (path.endsWith('/Slow')) {
      setTimeout(() => { if (!stream.destroyed) { respond(); finish(); } }, 2_000);
    } else if (path === '/svc/Stream') {
      respond();
      stream.write(Buffer.from([0, 0, 0, 0, 1, 0x61]));
      setTimeout(finish, 2_000);
    } else {
      respond();
      finish();
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => new Promise((resolve) => { server.close(resolve); }));
  return { port: (server.address() as AddressInfo).port, outcomes };
}

function cluster(port: number): Cluster {
  return { id: 'grpc', backend: { kind: 'Service', namespace: 'test', name: 'grpc' }, protocol: 'h2c', endpoints: [{ address: '127.0.0.1', port, ready: true }] };
}

async function serve(t: TestContext, backendPort: number): Promise<ClientHttp2Session> {
  const { url } = await redis();
  const client = await redisClient(t);
  const gateway = newGateway();
  const port = await freePort();
  const dataplane = await startDataplane(t, url, gateway);
  await publish(client, gateway, published(dataplaneConfig(gateway, {
    listeners: [{ id: 'l', port, protocol: 'HTTP', rules: [
      rule(0, { path: { type: 'PathPrefix', value: '/route-timeout/' }, grpc: true }),
      rule(1, { path: { type: 'PathPrefix', value: '/' }, grpc: true }),
    ] }],
    actions: [action('bounded', 'grpc', { timeouts: { requestMs: 300 } }), action('open', 'grpc')],
    clusters: [cluster(backendPort)],
  }), 1));
  await waitForVersion(dataplane, 1);
  const session = connect(`http://127.0.0.1:${port}`);
  t.teardown(() => { session.close(); });
  return session;
}

interface Call {
  headers: IncomingHttpHeaders & IncomingHttpStatusHeader;
  /** True when the first HEADERS frame ended the stream (trailers-only). */
  trailersOnly: boolean;
  trailers: IncomingHttpHeaders | undefined;
  data: number;
  ms: number;
}

async function call(session: ClientHttp2Session, path: string, extra: Record<string, string> = {}): Promise<Call> {
  const started = performance.now();
  const stream = session.request({ ':method': 'POST', ':path': path, ':authority': 'grpc.example.com', 'content-type': 'application/grpc', te: 'trailers', ...extra });
  stream.end(Buffer.from([0, 0, 0, 0, 0]));
  let trailers: IncomingHttpHeaders | undefined;
  let data = 0;
  stream.on('trailers', (received: IncomingHttpHeaders) => { trailers = received; });
  stream.on('data', (chunk: Buffer) => { data += chunk.length; });
  const [headers, flags] = (await once(stream, 'response')) as [IncomingHttpHeaders & IncomingHttpStatusHeader, number];
  await once(stream, 'close');
  return { headers, trailersOnly: (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0, trailers, data, ms: performance.now() - started };
}

t.test('grpc-timeout parsing follows the gRPC wire format', (t) => {
  t.equal(parseGrpcTimeout('1H'), 3_600_000);
  t.equal(parseGrpcTimeout('2M'), 120_000);
  t.equal(parseGrpcTimeout('3S'), 3_000);
  t.equal(parseGrpcTimeout('250m'), 250);
  t.equal(parseGrpcTimeout('1500u'), 2, 'fractions of a millisecond round up');
  t.equal(parseGrpcTimeout('99999999n'), 100);
  for (const bad of ['', '1', 'S', '123456789S', '1.5S', '-1S', '10s', '10 S']) t.equal(parseGrpcTimeout(bad), undefined, `${JSON.stringify(bad)} is malformed`);
  t.end();
});

t.test('grpc-timeout bounds the backend wait; expiry is a trailers-only DEADLINE_EXCEEDED and the backend stream is cancelled', async (t) => {
  const upstream = await backend(t);
  const session = await serve(t, upstream.port);

  const ok = await call(session, '/svc/Fast', { 'grpc-timeout': '5S' });
  t.equal(ok.headers[':status'], 200);
  t.equal(ok.trailers?.['grpc-status'], '0', 'a call within its deadline passes');

  const expired = await call(session, '/svc/Slow', { 'grpc-timeout': '200m' });
  t.equal(expired.headers[':status'], 200);
  t.equal(expired.headers['grpc-status'], '4', 'DEADLINE_EXCEEDED');
  t.equal(expired.headers['content-type'], 'application/grpc');
  t.ok(expired.trailersOnly, 'in one HEADERS frame that ends the stream');
  t.equal(expired.data, 0);
  t.ok(expired.ms >= 190 && expired.ms < 1_500, `answered at the deadline (${Math.round(expired.ms)} ms)`);
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.equal(upstream.outcomes.get('/svc/Slow'), 'cancelled', 'the backend stream was reset, not left running');

  const routeWins = await call(session, '/route-timeout/Slow', { 'grpc-timeout': '10S' });
  t.equal(routeWins.headers['grpc-status'], '4', 'the route timeout, shorter than grpc-timeout, applies');
  t.ok(routeWins.ms < 1_500, `at the route's 300 ms (${Math.round(routeWins.ms)} ms)`);

  const clientWins = await call(session, '/route-timeout/Slow', { 'grpc-timeout': '100m' });
  t.ok(clientWins.ms < 280, `grpc-timeout shorter than the route timeout applies (${Math.round(clientWins.ms)} ms)`);
  t.equal(clientWins.headers['grpc-status'], '4');

  const malformed = await call(session, '/route-timeout/Slow', { 'grpc-timeout': 'soon' });
  t.ok(malformed.ms >= 290, 'a malformed grpc-timeout is ignored: the route timeout still applies');
  t.equal(malformed.headers['grpc-status'], '4');
});

t.test('a streaming response cut by the deadline ends with DEADLINE_EXCEEDED in its trailers', async (t) => {
  const upstream = await backend(t);
  const session = await serve(t, upstream.port);
  const cut = await call(session, '/svc/Stream', { 'grpc-timeout': '300m' });
  t.equal(cut.headers[':status'], 200);
  t.notOk(cut.trailersOnly);
  t.equal(cut.data, 6, 'the message sent before the deadline arrived');
  t.equal(cut.trailers?.['grpc-status'], '4', 'then trailers with DEADLINE_EXCEEDED');
  t.ok(cut.ms < 1_500);
});

t.test('grpc-timeout on a request that is not gRPC changes nothing', async (t) => {
  const upstream = await backend(t);
  const session = await serve(t, upstream.port);
  const stream = session.request({ ':method': 'POST', ':path': '/svc/Slow', ':authority': 'grpc.example.com', 'content-type': 'application/json', 'grpc-timeout': '100m' });
  stream.end('{}');
  const started = performance.now();
  const [headers] = (await once(stream, 'response')) as [IncomingHttpHeaders & IncomingHttpStatusHeader];
  stream.resume();
  await once(stream, 'close');
  t.equal(headers[':status'], 200);
  t.ok(performance.now() - started >= 1_900, 'the slow answer was awaited');
});

// Real Redis, real HTTP/1.1 and h2c: requests with bodies are retried when the body fits the
// Gateway's retryBodyBufferBytes (each attempt and each mirror gets the whole body); a longer
// body streams, is not retried and is counted in weir_retry_skipped_total.
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect as http2Connect } from 'node:http2';
import { connect, type AddressInfo } from 'node:net';
import t from 'tap';
import type { Cluster, RuleAction } from '../../api-types/dataplane-config.ts';
import type { Limits } from '../../api-types/limits.ts';
import type { Dataplane } from '../../dataplane/dataplane.ts';
import { freePort, poll, redis, redisClient, type TestContext } from '../harness/index.ts';
import { action, dataplaneConfig, httpClient, newGateway, publish, published, rule, startDataplane, waitForVersion } from './dataplane-fixtures.ts';
import { counterValue } from '../security/limits-fixtures.ts';

interface Recorded {
  /** sha256 of each attempt's body, by request path. */
  bodies: Map<string, string[]>;
  server: Server;
  port: number;
}

/** A backend that reads the whole body, records its hash, and answers 503 to the first `x-fail-times` attempts of a path. */
async function recordingBackend(t: TestContext): Promise<Recorded> {
  const bodies = new Map<string, string[]>();
  const server = createServer((req: IncomingMessage, res) => {
    const hash = createHash('sha256');
    req.on('data', (chunk: Buffer) => hash.update(chunk));
    req.on('end', () => {
      const list = bodies.get(req.url ?? '') ?? [];
      list.push(hash.digest('hex'));
      bodies.set(req.url ?? '', list);
      const failures = Number(req.headers['x-fail-times'] ?? 0);
      res.writeHead(list.length <= failures ? 503 : 200).end(String(list.length));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }));
  return { bodies, server, port: (server.address() as AddressInfo).port };
}

function cluster(id: string, ...ports: number[]): Cluster {
  return { id, backend: { kind: 'Service', namespace: 'test', name: id }, protocol: 'http1', endpoints: ports.map((port) => ({ address: '127.0.0.1', port, ready: true })) };
}

async function serve(t: TestContext, limits: Limits | undefined, clusters: Cluster[], routes: Record<string, Partial<RuleAction> & { cluster: string }>): Promise<{ port: number; dataplane: Dataplane }> {
  const { url } = await redis();
  const client = await redisClient(t);
  const gateway = newGateway();
  const port = await freePort();
  const dataplane = await startDataplane(t, url, gateway);
  const paths = Object.keys(routes);
  await publish(client, gateway, published(dataplaneConfig(gateway, {
    listeners: [{ id: 'l', port, protocol: 'HTTP', rules: paths.map((path, i) => rule(i, { path: { type: 'PathPrefix', value: path } })) }],
    actions: paths.map((path) => {
      const { cluster: id, ...rest } = routes[path]!;
      return action(path, id, rest);
    }),
    clusters,
    ...(limits === undefined ? {} : { limits }),
  }), 1));
  await waitForVersion(dataplane, 1);
  return { port, dataplane };
}

const sha = (body: Buffer): string => createHash('sha256').update(body).digest('hex');
const RETRY = { codes: [503], attempts: 2, backoffMs: 5, connectionErrors: true };

t.test('a body within the limit is sent whole on every attempt; a longer one streams once and is counted', async (t) => {
  const backend = await recordingBackend(t);
  const { port, dataplane } = await serve(t, { retryBodyBufferBytes: 1024 }, [cluster('b', backend.port)], { '/': { cluster: 'b', retry: RETRY } });
  const post = httpClient(t);

  const small = randomBytes(512).toString('hex');
  const retried = await post(port, '/small', { method: 'POST', body: small, headers: { 'x-fail-times': '2' } });
  t.equal(retried.status, 200, 'the third attempt answers');
  const smallHash = sha(Buffer.from(small));
  t.same(backend.bodies.get('/small'), [smallHash, smallHash, smallHash], 'every attempt carried the whole (1024-byte) body');
  t.equal(await counterValue(dataplane, 'weir_retry_skipped_total', { reason: 'body_too_large' }), 0);

  const large = 'x'.repeat(1025);
  const streamed = await post(port, '/large', { method: 'POST', body: large, headers: { 'x-fail-times': '1' } });
  t.equal(streamed.status, 503, 'one byte over the limit: the backend answer is final');
  t.same(backend.bodies.get('/large'), [sha(Buffer.from(large))], 'one attempt, with the whole body streamed');
  t.equal(await counterValue(dataplane, 'weir_retry_skipped_total', { reason: 'body_too_large' }), 1, 'the skipped retry is counted');

  const big = randomBytes(512 * 1024).toString('hex');
  const bigAnswer = await post(port, '/big', { method: 'POST', body: big });
  t.equal(bigAnswer.status, 200, 'a large body streams through');
  t.same(backend.bodies.get('/big'), [sha(Buffer.from(big))]);
  t.equal(await counterValue(dataplane, 'weir_retry_skipped_total', { reason: 'body_too_large' }), 2);
});

t.test('the default limit is 64 KiB; 0 turns body buffering off', async (t) => {
  const backend = await recordingBackend(t);
  const { port } = await serve(t, undefined, [cluster('b', backend.port)], { '/': { cluster: 'b', retry: RETRY } });
  const post = httpClient(t);
  t.equal((await post(port, '/64k', { method: 'POST', body: 'y'.repeat(65_536), headers: { 'x-fail-times': '1' } })).status, 200);
  t.equal(backend.bodies.get('/64k')?.length, 2);
  t.equal((await post(port, '/over', { method: 'POST', body: 'y'.repeat(65_537), headers: { 'x-fail-times': '1' } })).status, 503);
  t.equal(backend.bodies.get('/over')?.length, 1);

  const off = await recordingBackend(t);
  const served = await serve(t, { retryBodyBufferBytes: 0 }, [cluster('b', off.port)], { '/': { cluster: 'b', retry: RETRY } });
  t.equal((await post(served.port, '/tiny', { method: 'POST', body: 'z', headers: { 'x-fail-times': '1' } })).status, 503, 'limit 0: never replayed');
  t.equal(off.bodies.get('/tiny')?.length, 1);
});

t.test('a buffered body fails over from a refused endpoint and reaches mirrors', async (t) => {
  const backend = await recordingBackend(t);
  const mirror = await recordingBackend(t);
  const refused = await freePort();
  const { port } = await serve(t, { retryBodyBufferBytes: 4096 }, [cluster('b', refused, backend.port), cluster('m', mirror.port)], {
    '/': { cluster: 'b', retry: { ...RETRY, codes: [] }, mirrors: [{ clusterId: 'm', percent: 100 }] },
  });
  const post = httpClient(t);
  const body = 'payload-'.repeat(100);
  for (const path of ['/one', '/two']) {
    const answer = await post(port, path, { method: 'POST', body });
    t.equal(answer.status, 200, `${path}: answered by the live endpoint whichever was picked first`);
    t.same(backend.bodies.get(path), [sha(Buffer.from(body))]);
  }
  await poll(() => (mirror.bodies.get('/two')?.length === 1 ? true : undefined), { what: 'mirrored requests', timeoutMs: 5_000 });
  t.same(mirror.bodies.get('/one'), [sha(Buffer.from(body))], 'the mirror got the whole body');
});

t.test('HTTP/2 request bodies are buffered and retried too', async (t) => {
  const backend = await recordingBackend(t);
  const { port } = await serve(t, { retryBodyBufferBytes: 2048 }, [cluster('b', backend.port)], { '/': { cluster: 'b', retry: RETRY } });
  const session = http2Connect(`http://127.0.0.1:${port}`);
  t.teardown(() => { session.close(); });
  const body = randomBytes(2000);
  const stream = session.request({ ':method': 'POST', ':path': '/h2', ':authority': 'example.com', 'x-fail-times': '1' });
  stream.end(body);
  const [headers] = (await once(stream, 'response')) as [Record<string, string | number>];
  stream.resume();
  await once(stream, 'end');
  t.equal(headers[':status'], 200);
  t.same(backend.bodies.get('/h2'), [sha(body), sha(body)]);
});

t.test('a client that goes away while its body is being buffered reaches no backend', async (t) => {
  const backend = await recordingBackend(t);
  const { port } = await serve(t, { retryBodyBufferBytes: 4096 }, [cluster('b', backend.port)], { '/': { cluster: 'b', retry: RETRY } });
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write('POST /gone HTTP/1.1\r\nHost: example.com\r\nContent-Length: 1000\r\n\r\npartial');
  await new Promise((resolve) => setTimeout(resolve, 100));
  socket.destroy();
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.equal(backend.bodies.get('/gone'), undefined, 'nothing was sent upstream');
  const post = httpClient(t);
  t.equal((await post(port, '/after', { method: 'POST', body: 'ok' })).status, 200, 'the dataplane keeps serving');
});

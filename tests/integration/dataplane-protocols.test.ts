// Real Redis, real HTTP: timeouts, retries, streaming bodies both ways, h2c and WebSocket backends.
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import t from 'tap';
import { request } from 'undici';
import { WebSocket } from 'ws';
import type { Cluster, RuleAction } from '../../api-types/dataplane-config.ts';
import { freePort, redis, redisClient, type TestContext } from '../harness/index.ts';
import { startEcho } from '../harness/echo/server.ts';
import { action, dataplaneConfig, echoCluster, httpClient, newGateway, publish, published, rule, startDataplane, waitForVersion } from './dataplane-fixtures.ts';

async function serve(t: TestContext, clusters: Cluster[], routes: Record<string, Partial<RuleAction> & { cluster: string }>): Promise<{ port: number; get: ReturnType<typeof httpClient> }> {
  const { url } = await redis();
  const client = await redisClient(t);
  const gateway = newGateway();
  const port = await freePort();
  const dataplane = await startDataplane(t, url, gateway);
  const paths = Object.keys(routes);
  await publish(client, gateway, published(dataplaneConfig(gateway, {
    listeners: [{ id: 'l', port, protocol: 'HTTP', rules: paths.map((path, i) => rule(i, { path: { type: 'PathPrefix', value: path } })) }],
    actions: paths.map((path) => {
      const { cluster, ...rest } = routes[path]!;
      return action(path, cluster, rest);
    }),
    clusters,
  }), 1));
  await waitForVersion(dataplane, 1);
  return { port, get: httpClient(t) };
}

async function backend(t: TestContext, handler: (req: IncomingMessage, res: ServerResponse) => void, port = 0): Promise<{ server: Server; cluster: (id: string) => Cluster }> {
  const server = createServer(handler);
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }));
  const actualPort = (server.address() as AddressInfo).port;
  return {
    server,
    cluster: (id) => ({ id, backend: { kind: 'Service', namespace: 'test', name: id }, protocol: 'http1', endpoints: [{ address: '127.0.0.1', port: actualPort, ready: true }] }),
  };
}

t.test('request and backendRequest timeouts answer 504', async (t) => {
  const echo = await startEcho({ log: () => undefined });
  t.teardown(() => echo.close());
  const { port, get } = await serve(t, [echoCluster('echo', [echo])], {
    '/request': { cluster: 'echo', timeouts: { requestMs: 200 } },
    '/backend': { cluster: 'echo', timeouts: { backendRequestMs: 200 } },
  });
  let started = performance.now();
  t.equal((await get(port, '/request?delay=2s')).status, 504);
  t.ok(performance.now() - started < 1_500, 'the request timeout fired');
  started = performance.now();
  t.equal((await get(port, '/backend?delay=2s')).status, 504);
  t.ok(performance.now() - started < 1_500, 'the backend timeout fired');
  t.equal((await get(port, '/request?delay=10ms')).status, 200, 'fast answers are unaffected');
});

t.test('retries: listed codes are retried up to the attempt limit', async (t) => {
  let calls = 0;
  const flaky = await backend(t, (req, res) => {
    calls++;
    // Fails the first two attempts of each request id, then succeeds.
    const failures = Number(req.headers['x-fail-times'] ?? 0);
    const seen = (attemptsById.get(req.url ?? '') ?? 0) + 1;
    attemptsById.set(req.url ?? '', seen);
    res.writeHead(seen <= failures ? 503 : 200).end(String(seen));
  });
  const attemptsById = new Map<string, number>();
  const { port, get } = await serve(t, [flaky.cluster('flaky')], {
    '/retry': { cluster: 'flaky', retry: { codes: [503], attempts: 2, backoffMs: 5 } },
    '/no-retry': { cluster: 'flaky' },
  });
  const ok = await get(port, '/retry/a', { headers: { 'x-fail-times': '2' } });
  t.equal(ok.status, 200);
  t.equal(ok.text, '3', 'third attempt answered');
  const exhausted = await get(port, '/retry/b', { headers: { 'x-fail-times': '5' } });
  t.equal(exhausted.status, 503, 'after the last retry the backend answer is returned');
  t.equal(attemptsById.get('/retry/b'), 3);
  const single = await get(port, '/no-retry/c', { headers: { 'x-fail-times': '1' } });
  t.equal(single.status, 503);
  t.equal(attemptsById.get('/no-retry/c'), 1);
  const withBody = await get(port, '/retry/d', { method: 'POST', body: 'payload', headers: { 'x-fail-times': '1' } });
  t.equal(withBody.status, 200, 'a small request body is buffered and replayed');
  t.ok(calls > 0);
});

t.test('retries: connection errors are retried with backoff when enabled', async (t) => {
  const port = await freePort();
  const cluster: Cluster = { id: 'late', backend: { kind: 'Service', namespace: 'test', name: 'late' }, protocol: 'http1', endpoints: [{ address: '127.0.0.1', port, ready: true }] };
  const setup = await serve(t, [cluster], {
    '/connect': { cluster: 'late', retry: { codes: [], attempts: 3, backoffMs: 150, connectionErrors: true } },
  });
  // The backend appears shortly after the first attempt was refused.
  const pending = setup.get(setup.port, '/connect');
  await new Promise((resolve) => setTimeout(resolve, 30));
  await backend(t, (_req, res) => res.end('late but there'), port);
  const answer = await pending;
  t.equal(answer.status, 200);
  t.equal(answer.text, 'late but there');
});

t.test('bodies stream both ways without buffering', async (t) => {
  let release: (() => void) | undefined;
  const streamer = await backend(t, (req, res) => {
    if (req.url === '/mirror-body') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      req.pipe(res);
      return;
    }
    // Sends a first chunk, then waits for the test before finishing.
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('first chunk;');
    release = () => res.end('rest');
  });
  const { port } = await serve(t, [streamer.cluster('s')], { '/': { cluster: 's' } });
  const payload = randomBytes(8 * 1024 * 1024);
  const response = await request(`http://127.0.0.1:${port}/mirror-body`, { method: 'POST', body: Readable.from([payload.subarray(0, 4_000_000), payload.subarray(4_000_000)]) });
  const hash = createHash('sha256');
  for await (const chunk of response.body) hash.update(chunk as Buffer);
  t.equal(hash.digest('hex'), createHash('sha256').update(payload).digest('hex'), '8 MiB went through and back intact');

  const streaming = await request(`http://127.0.0.1:${port}/slow`);
  const iterator = streaming.body[Symbol.asyncIterator]();
  const first = await iterator.next();
  t.equal(Buffer.from(first.value as Buffer).toString(), 'first chunk;', 'the first chunk arrives before the backend finished');
  release?.();
  let rest = '';
  for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) rest += Buffer.from(next.value as Buffer).toString();
  t.equal(rest, 'rest');
});

t.test('h2c backends are spoken to with HTTP/2 prior knowledge', async (t) => {
  const echo = await startEcho({ pod: 'h2', log: () => undefined });
  t.teardown(() => echo.close());
  const { port, get } = await serve(t, [echoCluster('h2', [echo], 'h2c')], { '/': { cluster: 'h2' } });
  const answer = await get(port, '/grpc-ish?x=1', { host: 'h2.example.com' });
  t.equal(answer.status, 200);
  t.equal(answer.echo?.proto, 'HTTP/2.0');
  t.equal(answer.echo?.host, 'h2.example.com');
  t.equal(answer.echo?.path, '/grpc-ish?x=1');
  const post = await get(port, '/post', { method: 'POST', body: 'hello' });
  t.equal(post.status, 200);
});

t.test('WebSocket upgrades are proxied to ws backends and piped both ways', async (t) => {
  const echo = await startEcho({ pod: 'ws', log: () => undefined });
  t.teardown(() => echo.close());
  const { port } = await serve(t, [echoCluster('ws', [echo], 'ws')], { '/': { cluster: 'ws' } });
  const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { host: 'ws.example.com' } });
  t.teardown(() => { socket.terminate(); });
  await once(socket, 'open');
  const replies: string[] = [];
  socket.on('message', (data: Buffer) => replies.push(data.toString()));
  socket.send('ping-1');
  socket.send('ping-2');
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`only got ${JSON.stringify(replies)}`)); }, 5_000);
    socket.on('message', () => {
      if (replies.length === 2) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  t.same(replies, ['ping-1', 'ping-2']);
  const refused = new WebSocket(`ws://127.0.0.1:${port}/not-ws`);
  const [, refusal] = (await once(refused, 'unexpected-response')) as [unknown, IncomingMessage];
  t.equal(refusal.statusCode, 404, 'the backend refusing an upgrade is passed on');
});

t.test('retries: many attempts keep a steady pace (the exponential backoff is capped) and the request timeout bounds them', async (t) => {
  const attempts: number[] = [];
  const flaky = await backend(t, (req, res) => {
    attempts.push(performance.now());
    res.writeHead(attempts.length <= Number(req.headers['x-fail-times'] ?? 0) ? 500 : 200).end(String(attempts.length));
  });
  const { port, get } = await serve(t, [flaky.cluster('flaky')], {
    '/many': { cluster: 'flaky', retry: { codes: [500], attempts: 100, backoffMs: 300 } },
    '/bounded': { cluster: 'flaky', retry: { codes: [500], attempts: 100, backoffMs: 200 }, timeouts: { requestMs: 700 } },
  });
  // Uncapped (with jitter of 0.5-1×) 6 retries from 300 ms would wait at least 9.4 s; capped at 1 s, at most 4.9 s.
  const started = performance.now();
  const ok = await get(port, '/many', { headers: { 'x-fail-times': '6' } });
  const tookMs = performance.now() - started;
  t.equal(ok.status, 200);
  t.equal(ok.text, '7', 'the seventh attempt answered');
  t.ok(tookMs < 8_000, `6 retries took ${Math.round(tookMs)} ms`);
  const gaps = attempts.slice(1).map((at, i) => at - (attempts[i] as number));
  t.ok(gaps.every((gap) => gap <= 1_300), `no wait far above the 1 s cap: ${gaps.map(Math.round).join(', ')} ms`);

  attempts.length = 0;
  const bounded = await get(port, '/bounded', { headers: { 'x-fail-times': '100' } });
  t.equal(bounded.status, 504, 'the request timeout ends the retries');
  t.ok(attempts.length >= 2 && attempts.length < 10, `${attempts.length} attempts fit in 700 ms`);
});

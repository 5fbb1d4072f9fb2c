// Real Redis, real HTTP: every HTTPRoute filter as the echo backend and the client see it.
import { connect } from 'node:net';
import t from 'tap';
import { freePort, poll, redis, redisClient, type TestContext } from '../harness/index.ts';
import { startEcho, type EchoServer } from '../harness/echo/server.ts';
import { action, dataplaneConfig, echoCluster, httpClient, newGateway, publish, published, rule, startDataplane, waitForVersion } from './dataplane-fixtures.ts';
import type { RuleAction } from '../../api-types/dataplane-config.ts';

interface Setup {
  port: number;
  get: ReturnType<typeof httpClient>;
  echo: EchoServer;
}

/** One rule per entry of `routes` (PathPrefix = key) in front of one echo backend. */
async function serve(t: TestContext, routes: Record<string, Partial<RuleAction>>, extraEchoes: EchoServer[] = [], trustedProxyHops = 0): Promise<Setup> {
  const { url } = await redis();
  const client = await redisClient(t);
  const echo = await startEcho({ pod: 'main', log: () => undefined });
  t.teardown(() => echo.close());
  const gateway = newGateway();
  const port = await freePort();
  const dataplane = await startDataplane(t, url, gateway);
  const paths = Object.keys(routes);
  await publish(client, gateway, published(dataplaneConfig(gateway, {
    listeners: [{ id: 'l', port, protocol: 'HTTP', rules: paths.map((path, i) => rule(i, { path: { type: 'PathPrefix', value: path } })) }],
    actions: paths.map((path) => action(path, 'main', routes[path])),
    clusters: [echoCluster('main', [echo]), ...extraEchoes.map((extra) => echoCluster(extra.pod, [extra]))],
    trustedProxyHops,
  }), 1));
  await waitForVersion(dataplane, 1);
  return { port, get: httpClient(t), echo };
}

t.test('request and response header modifiers, rule-level and per backend', async (t) => {
  const { port, get } = await serve(t, {
    '/req': { requestHeaders: { set: [{ name: 'x-set', value: 'set-value' }], add: [{ name: 'x-add', value: 'added' }], remove: ['x-remove'] } },
    '/resp': {
      responseHeaders: { set: [{ name: 'x-content-type-options', value: 'changed' }], add: [{ name: 'x-resp-add', value: 'r' }], remove: ['content-type'] },
    },
    '/backend': {
      backends: [{ weight: 1, clusterId: 'main', requestHeaders: { set: [{ name: 'x-backend', value: 'b' }], add: [], remove: [] }, responseHeaders: { set: [{ name: 'x-from-backend-filter', value: '1' }], add: [], remove: [] } }],
    },
  });
  const req = await get(port, '/req', { headers: { 'x-set': 'original', 'x-add': 'first', 'x-remove': 'gone', 'x-keep': 'kept' } });
  t.same(req.echo?.headers['X-Set'], ['set-value']);
  t.same(req.echo?.headers['X-Add'], ['first', 'added']);
  t.equal(req.echo?.headers['X-Remove'], undefined);
  t.same(req.echo?.headers['X-Keep'], ['kept']);
  const resp = await get(port, '/resp', { headers: { 'x-echo-set-header': 'X-Resp-Add:from-backend' } });
  t.equal(resp.headers['x-content-type-options'], 'changed');
  t.same(resp.headers['x-resp-add'], ['from-backend', 'r']);
  t.equal(resp.headers['content-type'], undefined);
  const backend = await get(port, '/backend');
  t.same(backend.echo?.headers['X-Backend'], ['b']);
  t.equal(backend.headers['x-from-backend-filter'], '1');
});

t.test('redirects: scheme, hostname, port, path and every status code', async (t) => {
  const { port, get } = await serve(t, {
    '/scheme': { redirect: { scheme: 'https', statusCode: 301 } },
    '/host': { redirect: { hostname: 'other.example.org', statusCode: 302 } },
    '/port': { redirect: { port: 8443, statusCode: 303 } },
    '/full': { redirect: { path: { type: 'ReplaceFullPath', replaceFullPath: '/new/place' }, statusCode: 307 } },
    '/prefix': { redirect: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/moved' }, statusCode: 308 } },
  });
  const location = async (path: string): Promise<[number, unknown]> => {
    const answer = await get(port, path, { host: 'example.com' });
    return [answer.status, answer.headers.location];
  };
  t.same(await location('/scheme/a?q=1'), [301, 'https://example.com/scheme/a?q=1']);
  t.same(await location('/host'), [302, `http://other.example.org:${port}/host`], 'the listener port is kept when the scheme does not change');
  t.same(await location('/port/x'), [303, 'http://example.com:8443/port/x']);
  t.same(await location('/full/whatever'), [307, `http://example.com:${port}/new/place`]);
  t.same(await location('/prefix/rest/of/it'), [308, `http://example.com:${port}/moved/rest/of/it`]);
});

t.test('URL rewrite: hostname, full path, prefix on segment boundaries, query kept', async (t) => {
  const { port, get } = await serve(t, {
    '/host': { urlRewrite: { hostname: 'rewritten.example.org' } },
    '/full': { urlRewrite: { path: { type: 'ReplaceFullPath', replaceFullPath: '/replaced' } } },
    '/strip': { urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } } },
    '/prefix/one': { urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/one' } } },
  });
  t.equal((await get(port, '/host/x')).echo?.host, 'rewritten.example.org');
  t.equal((await get(port, '/full/a/b?x=1')).echo?.path, '/replaced?x=1');
  t.equal((await get(port, '/strip/three')).echo?.path, '/three');
  t.equal((await get(port, '/strip')).echo?.path, '/');
  t.equal((await get(port, '/prefix/one/two')).echo?.path, '/one/two');
});

t.test('mirrors: several targets, percentages, responses discarded, client sees the primary', async (t) => {
  const always = await startEcho({ pod: 'mirror-always', log: () => undefined });
  const never = await startEcho({ pod: 'mirror-never', log: () => undefined });
  t.teardown(() => Promise.all([always.close(), never.close()]));
  const { port, get } = await serve(t, {
    '/mirror': { mirrors: [{ clusterId: 'mirror-always', percent: 100 }, { clusterId: 'mirror-never', percent: 0 }] },
  }, [always, never]);
  for (let i = 0; i < 5; i++) {
    const answer = await get(port, `/mirror/${i}`);
    t.equal(answer.echo?.pod, 'main');
  }
  const body = await get(port, '/mirror/with-body', { method: 'POST', body: 'x'.repeat(100_000) });
  t.equal(body.status, 200, 'a request with a body is mirrored without blocking the primary');
  await poll(() => (always.logLines.length >= 6 ? true : undefined), { what: 'mirror requests to arrive', timeoutMs: 5_000 });
  t.ok(always.logLines.some((line) => line.startsWith('Echoing back request made to /mirror/3 to client (')), 'the mirror logs like echo-basic');
  t.equal(never.requests, 0, 'a 0 percent mirror gets nothing');
});

t.test('CORS: preflight answered by the gateway, actual requests get allow headers', async (t) => {
  const { port, get, echo } = await serve(t, {
    '/cors': {
      cors: { allowOrigins: ['https://www.foo.com', 'https://*.bar.com'], allowMethods: ['GET', 'OPTIONS'], allowHeaders: ['x-header-1'], exposeHeaders: ['x-header-3'], allowCredentials: true, maxAgeSeconds: 3600 },
    },
  });
  const before = echo.requests;
  const preflight = await get(port, '/cors', { method: 'OPTIONS', headers: { origin: 'https://a.b.bar.com', 'access-control-request-method': 'GET' } });
  t.equal(preflight.status, 200);
  t.equal(preflight.headers['access-control-allow-origin'], 'https://a.b.bar.com');
  t.equal(preflight.headers['access-control-allow-methods'], 'GET, OPTIONS');
  t.equal(preflight.headers['access-control-max-age'], '3600');
  t.equal(preflight.headers['access-control-allow-credentials'], 'true');
  const denied = await get(port, '/cors', { method: 'OPTIONS', headers: { origin: 'https://evil.com', 'access-control-request-method': 'GET' } });
  t.equal(denied.headers['access-control-allow-origin'], undefined);
  t.equal(echo.requests, before, 'preflights never reach the backend');
  const actual = await get(port, '/cors', { headers: { origin: 'https://www.foo.com' } });
  t.equal(actual.status, 200);
  t.equal(actual.headers['access-control-allow-origin'], 'https://www.foo.com');
  t.equal(actual.headers['access-control-expose-headers'], 'x-header-3');
  const other = await get(port, '/cors', { headers: { origin: 'https://evil.com' } });
  t.equal(other.headers['access-control-allow-origin'], undefined);
});

t.test('hop-by-hop headers are dropped, X-Forwarded-* and X-Request-Id set', async (t) => {
  const { port } = await serve(t, { '/': {} });
  // A raw request: HTTP client libraries rewrite Connection themselves.
  const raw = await rawRequest(port, [
    'GET /hop HTTP/1.1',
    'Host: shop.example.com',
    'Connection: close, X-Private',
    'X-Private: secret',
    'Keep-Alive: timeout=5',
    'TE: trailers, deflate',
    'X-Forwarded-For: 6.6.6.6',
    'X-Request-Id: client-chosen',
  ]);
  const headers = (JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as { headers: Record<string, string[] | undefined> }).headers;
  t.equal(headers['X-Private'], undefined, 'a header named in Connection is hop-by-hop');
  t.equal(headers['Keep-Alive'], undefined);
  t.same(headers.Te, ['trailers'], 'TE is reduced to trailers');
  t.same(headers['X-Forwarded-For'], ['127.0.0.1'], 'untrusted X-Forwarded-For is replaced');
  t.same(headers['X-Forwarded-Proto'], ['http']);
  t.same(headers['X-Forwarded-Host'], ['shop.example.com']);
  t.not(headers['X-Request-Id']?.[0], 'client-chosen');
  t.match(headers['X-Request-Id']?.[0], /^[0-9a-f-]{36}$/);
});

async function rawRequest(port: number, lines: string[]): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  const chunks: Buffer[] = [];
  for await (const chunk of socket) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

t.test('with trusted proxy hops, forwarded values and request ids are kept', async (t) => {
  const { port, get } = await serve(t, { '/': {} }, [], 1);
  const answer = await get(port, '/', { headers: { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https', 'x-request-id': 'upstream-id' } });
  t.same(answer.echo?.headers['X-Forwarded-For'], ['203.0.113.7, 127.0.0.1']);
  t.same(answer.echo?.headers['X-Forwarded-Proto'], ['https']);
  t.same(answer.echo?.headers['X-Request-Id'], ['upstream-id']);
});

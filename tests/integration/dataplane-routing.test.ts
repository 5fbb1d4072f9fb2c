// Real Redis, real HTTP: every kind of match decides which echo backend answers; 404/500/503;
// weights; failover away from an endpoint that refuses connections.
import t from 'tap';
import { freePort, freePorts, redis, redisClient, type TestContext } from '../harness/index.ts';
import { startEcho, type EchoServer } from '../harness/echo/server.ts';
import { action, dataplaneConfig, echoCluster, httpClient, newGateway, publish, published, rule, startDataplane, waitForVersion, type ConfigParts } from './dataplane-fixtures.ts';

async function echoes(t: TestContext, ...pods: string[]): Promise<EchoServer[]> {
  const servers = await Promise.all(pods.map((pod) => startEcho({ pod, log: () => undefined })));
  t.teardown(() => Promise.all(servers.map((server) => server.close())));
  return servers;
}

/** Starts a dataplane, publishes `parts` as version 1 and returns a client for its port. */
async function serve(t: TestContext, build: (port: number) => ConfigParts): Promise<{ port: number; get: ReturnType<typeof httpClient> }> {
  const { url } = await redis();
  const client = await redisClient(t);
  const gateway = newGateway();
  const port = await freePort();
  const dataplane = await startDataplane(t, url, gateway);
  await publish(client, gateway, published(dataplaneConfig(gateway, build(port)), 1));
  await waitForVersion(dataplane, 1);
  return { port, get: httpClient(t) };
}

t.test('path, method, header and query matches pick the backend', async (t) => {
  const [exact, prefix, method, header, query, regex, fallback] = await echoes(t, 'exact', 'prefix', 'method', 'header', 'query', 'regex', 'fallback');
  const names = ['exact', 'prefix', 'method', 'header', 'query', 'regex', 'fallback'];
  const { port, get } = await serve(t, (port) => ({
    listeners: [{
      id: 'l', port, protocol: 'HTTP', rules: [
        rule(0, { path: { type: 'Exact', value: '/exact' } }),
        rule(1, { path: { type: 'PathPrefix', value: '/prefix' } }),
        rule(2, { path: { type: 'PathPrefix', value: '/m' }, method: 'DELETE' }),
        rule(3, { path: { type: 'PathPrefix', value: '/m' }, headers: [{ type: 'Exact', name: 'x-env', value: 'canary' }] }),
        rule(4, { path: { type: 'PathPrefix', value: '/m' }, queryParams: [{ type: 'Exact', name: 'v', value: '2' }] }),
        rule(5, { path: { type: 'RegularExpression', value: '/r/[0-9]+' } }),
        rule(6),
      ],
    }],
    actions: names.map((name) => action(name, name)),
    clusters: [exact, prefix, method, header, query, regex, fallback].map((echo, i) => echoCluster(names[i]!, [echo!])),
  }));
  const pod = async (path: string, options?: Parameters<typeof get>[2]): Promise<string | undefined> => (await get(port, path, options)).echo?.pod;
  t.equal(await pod('/exact'), 'exact');
  t.equal(await pod('/exact/more'), 'fallback');
  t.equal(await pod('/prefix/a/b'), 'prefix');
  t.equal(await pod('/prefixes'), 'fallback');
  t.equal(await pod('/m', { method: 'DELETE' }), 'method');
  t.equal(await pod('/m', { headers: { 'X-Env': 'canary' } }), 'header');
  t.equal(await pod('/m?v=2'), 'query');
  t.equal(await pod('/m?v=3'), 'fallback');
  t.equal(await pod('/r/123'), 'regex');
  t.equal(await pod('/r/12a'), 'fallback');
});

t.test('hostnames and listeners: exact host, wildcard, listener isolation, ports in Host ignored', async (t) => {
  const [a, b, c] = await echoes(t, 'foo-listener', 'wildcard-listener', 'any-listener');
  const { port, get } = await serve(t, (port) => ({
    listeners: [
      { id: 'foo', port, hostname: 'foo.example.com', protocol: 'HTTP', rules: [rule(0)] },
      { id: 'wild', port, hostname: '*.example.com', protocol: 'HTTP', rules: [rule(1, { path: { type: 'PathPrefix', value: '/only' } })] },
      { id: 'any', port, protocol: 'HTTP', rules: [rule(2)] },
    ],
    actions: [action('a', 'a'), action('b', 'b'), action('c', 'c')],
    clusters: [echoCluster('a', [a!]), echoCluster('b', [b!]), echoCluster('c', [c!])],
  }));
  t.equal((await get(port, '/', { host: 'foo.example.com:1234' })).echo?.pod, 'foo-listener');
  t.equal((await get(port, '/only', { host: 'BAR.example.com' })).echo?.pod, 'wildcard-listener');
  t.equal((await get(port, '/else', { host: 'bar.example.com' })).status, 404, 'a host of the wildcard listener never reaches the catch-all listener');
  t.equal((await get(port, '/', { host: 'example.com' })).echo?.pod, 'any-listener');
});

t.test('404 without a match, 500 for invalid rules and backends, 503 without endpoints', async (t) => {
  const [echo] = await echoes(t, 'ok');
  const { port, get } = await serve(t, (port) => ({
    listeners: [{
      id: 'l', port, protocol: 'HTTP', rules: [
        rule(0, { path: { type: 'PathPrefix', value: '/direct' } }),
        rule(1, { path: { type: 'PathPrefix', value: '/invalid-ref' } }),
        rule(2, { path: { type: 'PathPrefix', value: '/empty' } }),
        rule(3, { path: { type: 'PathPrefix', value: '/ok' } }),
      ],
    }],
    actions: [
      action('direct', undefined, { directStatus: 500 }),
      action('invalid-ref', undefined, { backends: [{ weight: 1 }] }),
      action('empty', 'empty'),
      action('ok', 'ok'),
    ],
    clusters: [{ ...echoCluster('empty', []), endpoints: [] }, echoCluster('ok', [echo!])],
  }));
  t.equal((await get(port, '/nothing')).status, 404);
  t.equal((await get(port, '/direct')).status, 500);
  t.equal((await get(port, '/invalid-ref')).status, 500);
  t.equal((await get(port, '/empty')).status, 503);
  t.equal((await get(port, '/ok')).status, 200);
});

t.test('weights: proportions hold, weight 0 gets nothing, an invalid backend share gets 500', async (t) => {
  const [heavy, light, zero] = await echoes(t, 'heavy', 'light', 'zero');
  const { port, get } = await serve(t, (port) => ({
    listeners: [{ id: 'l', port, protocol: 'HTTP', rules: [rule(0)] }],
    actions: [action('w', undefined, { backends: [{ weight: 60, clusterId: 'heavy' }, { weight: 20, clusterId: 'light' }, { weight: 0, clusterId: 'zero' }, { weight: 20 }] })],
    clusters: [echoCluster('heavy', [heavy!]), echoCluster('light', [light!]), echoCluster('zero', [zero!])],
  }));
  const counts = new Map<string, number>();
  const total = 500;
  for (let i = 0; i < total; i++) {
    const answer = await get(port, '/');
    const key = answer.status === 500 ? '500' : answer.echo?.pod ?? String(answer.status);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  // Smooth weighted round robin is exact per window of 100 picks; allow a little slack anyway.
  t.ok(Math.abs((counts.get('heavy') ?? 0) - 300) <= 5, `heavy got ${counts.get('heavy')}`);
  t.ok(Math.abs((counts.get('light') ?? 0) - 100) <= 5, `light got ${counts.get('light')}`);
  t.ok(Math.abs((counts.get('500') ?? 0) - 100) <= 5, `invalid share got ${counts.get('500')}`);
  t.equal(counts.get('zero'), undefined, 'weight 0 never receives traffic');
});

t.test('an endpoint that refuses connections is skipped; requests still succeed', async (t) => {
  const [alive] = await echoes(t, 'alive');
  const [deadPort] = await freePorts(1);
  const { port, get } = await serve(t, (port) => ({
    listeners: [{ id: 'l', port, protocol: 'HTTP', rules: [rule(0)] }],
    actions: [action('a', 'mixed')],
    clusters: [{ ...echoCluster('mixed', [alive!]), endpoints: [{ address: '127.0.0.1', port: deadPort!, ready: true }, { address: alive!.host, port: alive!.httpPort, ready: true }] }],
  }));
  for (let i = 0; i < 20; i++) {
    const answer = await get(port, '/');
    t.equal(answer.status, 200);
    if (answer.status !== 200) break;
  }
  t.ok(alive!.requests >= 20);
});

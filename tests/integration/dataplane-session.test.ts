// Real Redis, real HTTP: session persistence by cookie and by header pins a client to one backend
// endpoint; timeouts end sessions; a pinned endpoint that left the config, turned unready or
// refuses connections is replaced and the client re-pinned.
import t from 'tap';
import type { SessionPersistence } from '../../api-types/dataplane-config.ts';
import { freePort, redis, redisClient, type TestContext } from '../harness/index.ts';
import { startEcho, type EchoServer } from '../harness/echo/server.ts';
import { action, dataplaneConfig, echoCluster, httpClient, newGateway, publish, published, rule, startDataplane, waitForVersion, type Answer, type ConfigParts } from './dataplane-fixtures.ts';

async function echoes(t: TestContext, ...pods: string[]): Promise<EchoServer[]> {
  const servers = await Promise.all(pods.map((pod) => startEcho({ pod, log: () => undefined })));
  t.teardown(() => Promise.all(servers.map((server) => server.close())));
  return servers;
}

interface Served {
  port: number;
  get: ReturnType<typeof httpClient>;
  /** Publishes the next version and waits until it serves. */
  update: (parts: ConfigParts) => Promise<void>;
}

async function serve(t: TestContext, build: (port: number) => ConfigParts): Promise<Served> {
  const { url } = await redis();
  const client = await redisClient(t);
  const gateway = newGateway();
  const port = await freePort();
  const dataplane = await startDataplane(t, url, gateway);
  let version = 1;
  await publish(client, gateway, published(dataplaneConfig(gateway, build(port)), version));
  await waitForVersion(dataplane, version);
  return {
    port,
    get: httpClient(t),
    update: async (parts) => {
      version++;
      await publish(client, gateway, published(dataplaneConfig(gateway, parts), version));
      await waitForVersion(dataplane, version);
    },
  };
}

function sessionParts(port: number, servers: readonly EchoServer[], session: SessionPersistence, ready: readonly boolean[] = []): ConfigParts {
  const cluster = echoCluster('pool', servers);
  cluster.endpoints = cluster.endpoints.map((endpoint, i) => ({ ...endpoint, ready: ready[i] ?? true }));
  return {
    listeners: [{ id: 'l', port, protocol: 'HTTP', rules: [rule(0)] }],
    actions: [action('sticky', 'pool', { sessionPersistence: session })],
    clusters: [cluster],
  };
}

function setCookies(answer: Answer): string[] {
  const raw = answer.headers['set-cookie'];
  return raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
}

/** The `name=value` of the session cookie a response set, or undefined. */
function sessionCookie(answer: Answer, name: string): string | undefined {
  const cookie = setCookies(answer).find((value) => value.startsWith(`${name}=`));
  return cookie?.split(';', 1)[0];
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

t.test('cookie: the first answer pins the client to its endpoint with an opaque cookie; the cookie keeps it there', async (t) => {
  const servers = await echoes(t, 'a', 'b', 'c');
  const { port, get } = await serve(t, (port) => sessionParts(port, servers, { type: 'Cookie', sessionName: 'sticky', cookieLifetime: 'Session' }));

  const unpinned = new Set<string | undefined>();
  for (let i = 0; i < 6; i++) unpinned.add((await get(port, '/')).echo?.pod);
  t.equal(unpinned.size, 3, 'requests without a cookie are balanced over every endpoint');

  const first = await get(port, '/');
  const raw = setCookies(first).find((value) => value.startsWith('sticky='));
  t.ok(raw, 'the answer sets the session cookie');
  t.match(raw, /; Path=\/; HttpOnly$/, 'a Session cookie: Path=/, no Max-Age or Expires');
  const cookie = sessionCookie(first, 'sticky') as string;
  for (const server of servers) {
    t.notOk(cookie.includes(server.host) || cookie.includes(String(server.httpPort)), 'the cookie does not name the endpoint address');
  }
  const pod = first.echo?.pod;
  for (let i = 0; i < 6; i++) {
    const next = await get(port, '/', { headers: { cookie: `other=1; ${cookie}` } });
    t.equal(next.echo?.pod, pod, `request ${i} with the cookie stays on ${pod}`);
    t.equal(sessionCookie(next, 'sticky'), undefined, 'an unchanged session is not set again');
  }

  const forged = await get(port, '/', { headers: { cookie: 'sticky=not-a-token' } });
  t.equal(forged.status, 200, 'a malformed cookie is balanced normally');
  t.ok(sessionCookie(forged, 'sticky'), 'and replaced by a valid one');
  const unknown = await get(port, '/', { headers: { cookie: `sticky=AAAAAAAAAAAAAAAAAAAAAA.${Date.now().toString(36)}.${Date.now().toString(36)}` } });
  t.equal(unknown.status, 200);
  t.ok(sessionCookie(unknown, 'sticky'), 'a token naming no endpoint of the rule is replaced');
});

t.test('cookie: Permanent gets Max-Age from absoluteTimeout; after absoluteTimeout the session is new', async (t) => {
  const servers = await echoes(t, 'a', 'b');
  const { port, get, update } = await serve(t, (port) => sessionParts(port, servers, { type: 'Cookie', sessionName: 'perm', cookieLifetime: 'Permanent', absoluteTimeoutMs: 3_600_000, cookiePath: '/app' }));
  const first = await get(port, '/');
  t.match(setCookies(first).find((value) => value.startsWith('perm=')), /; Path=\/app; HttpOnly; Max-Age=(3600|3599)$/);

  await update(sessionParts(port, servers, { type: 'Cookie', sessionName: 'short', cookieLifetime: 'Session', absoluteTimeoutMs: 400 }));
  const start = await get(port, '/');
  const cookie = sessionCookie(start, 'short') as string;
  t.ok(cookie);
  t.equal((await get(port, '/', { headers: { cookie } })).echo?.pod, start.echo?.pod, 'pinned within absoluteTimeout');
  t.equal(sessionCookie(await get(port, '/', { headers: { cookie } }), 'short'), undefined, 'no refresh without idleTimeout');
  await sleep(500);
  const expired = await get(port, '/', { headers: { cookie } });
  const renewed = sessionCookie(expired, 'short');
  t.ok(renewed, 'an expired session gets a new cookie');
  t.not(renewed, cookie);
  // The expired cookie no longer pins: with round robin over two endpoints, four requests reach both.
  const pods = new Set<string | undefined>();
  for (let i = 0; i < 4; i++) pods.add((await get(port, '/', { headers: { cookie } })).echo?.pod);
  t.equal(pods.size, 2, 'requests with the expired cookie are balanced');
});

t.test('idleTimeout: every answer refreshes the session; a silent client loses it', async (t) => {
  const servers = await echoes(t, 'a', 'b');
  const { port, get } = await serve(t, (port) => sessionParts(port, servers, { type: 'Cookie', sessionName: 'idle', cookieLifetime: 'Session', idleTimeoutMs: 600 }));
  const first = await get(port, '/');
  let cookie = sessionCookie(first, 'idle') as string;
  const pod = first.echo?.pod;
  // 6 × 200 ms is longer than the idle timeout, but each request refreshes it.
  for (let i = 0; i < 6; i++) {
    await sleep(200);
    const next = await get(port, '/', { headers: { cookie } });
    t.equal(next.echo?.pod, pod, `refreshed session ${i} stays on ${pod}`);
    const refreshed = sessionCookie(next, 'idle');
    t.ok(refreshed, 'the answer refreshes the cookie');
    t.equal(refreshed?.split('.')[0], cookie.split('.')[0], 'naming the same endpoint');
    cookie = refreshed as string;
  }
  await sleep(800);
  const pods = new Set<string | undefined>();
  for (let i = 0; i < 4; i++) pods.add((await get(port, '/', { headers: { cookie } })).echo?.pod);
  t.equal(pods.size, 2, 'after idleTimeout without a request the cookie no longer pins');
});

t.test('a pinned endpoint that left the config, turned unready or refuses connections is replaced and the client re-pinned', async (t) => {
  const servers = await echoes(t, 'a', 'b', 'c');
  const session: SessionPersistence = { type: 'Cookie', sessionName: 's', cookieLifetime: 'Session' };
  const { port, get, update } = await serve(t, (port) => sessionParts(port, servers, session));
  const byPod = (pod: string | undefined): EchoServer => servers.find((server) => server.pod === pod) as EchoServer;

  const first = await get(port, '/');
  const cookie = sessionCookie(first, 's') as string;
  const pinned = byPod(first.echo?.pod);
  await update(sessionParts(port, servers.filter((server) => server !== pinned), session));
  const moved = await get(port, '/', { headers: { cookie } });
  t.equal(moved.status, 200);
  t.not(moved.echo?.pod, pinned.pod, 'the removed endpoint gets no request');
  const repinned = sessionCookie(moved, 's') as string;
  t.ok(repinned, 'the client is re-pinned');
  t.equal((await get(port, '/', { headers: { cookie: repinned } })).echo?.pod, moved.echo?.pod);

  // Back in the config, but not ready: still avoided.
  await update(sessionParts(port, servers, session, servers.map((server) => server !== pinned)));
  const unready = await get(port, '/', { headers: { cookie } });
  t.not(unready.echo?.pod, pinned.pod, 'an unready pinned endpoint is avoided');
  t.ok(sessionCookie(unready, 's'));

  // Ready again: the old cookie names it again, since tokens are stable across configs.
  await update(sessionParts(port, servers, session));
  t.equal((await get(port, '/', { headers: { cookie } })).echo?.pod, pinned.pod, 'the same endpoint back in the config is found by the same cookie');

  await pinned.close();
  const refused = await get(port, '/', { headers: { cookie } });
  t.equal(refused.status, 200, 'a pinned endpoint refusing connections fails over');
  t.not(refused.echo?.pod, pinned.pod);
  const after = sessionCookie(refused, 's') as string;
  t.ok(after, 'and the client is re-pinned to the endpoint that answered');
  t.equal((await get(port, '/', { headers: { cookie: after } })).echo?.pod, refused.echo?.pod);
});

t.test('header: the dataplane returns the session header; a client echoing it stays pinned, also across weighted backends', async (t) => {
  const [a1, a2, b1] = await echoes(t, 'a1', 'a2', 'b1');
  const { port, get } = await serve(t, (port) => ({
    listeners: [{ id: 'l', port, protocol: 'HTTP', rules: [rule(0)] }],
    actions: [action('sticky', undefined, {
      backends: [{ weight: 1, clusterId: 'a', responseHeaders: { set: [], add: [{ name: 'x-backend', value: 'a' }], remove: [] } }, { weight: 1, clusterId: 'b' }, { weight: 0, clusterId: 'never' }],
      sessionPersistence: { type: 'Header', sessionName: 'X-Session', absoluteTimeoutMs: 60_000 },
    })],
    clusters: [echoCluster('a', [a1!, a2!]), echoCluster('b', [b1!]), echoCluster('never', [a1!])],
  }));
  const seen = new Map<string, string>();
  for (let i = 0; i < 4; i++) {
    const answer = await get(port, '/');
    const token = answer.headers['x-session'];
    t.type(token, 'string', 'each new session gets the header');
    seen.set(token as string, answer.echo?.pod as string);
  }
  t.ok(seen.size >= 3, 'different clients are spread');
  for (const [token, pod] of seen) {
    for (let i = 0; i < 3; i++) {
      const answer = await get(port, '/', { headers: { 'x-session': token } });
      t.equal(answer.echo?.pod, pod, `header ${token.slice(0, 6)} stays on ${pod}`);
      t.equal(answer.headers['x-backend'], pod.startsWith('a') ? 'a' : undefined, 'the pinned backend\'s own filters apply');
    }
  }
});

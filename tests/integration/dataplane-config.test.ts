// Real Redis, real HTTP: following config versions — swaps under load without a failed request,
// Redis going away and coming back, invalid configs rejected while traffic continues, acks,
// readiness, metrics, and listener ports opened and closed as the config changes.
import t from 'tap';
import { Agent, request } from 'undici';
import type { DataplaneConfig } from '../../api-types/dataplane-config.ts';
import { decodeAck } from '../../api-types/config-codec.ts';
import { ackKey, type ConfigAck } from '../../api-types/redis-contract.ts';
import type { GatewayRef } from '../../api-types/gateway-ref.ts';
import { freePort, poll, privateRedis, redis, redisClient } from '../harness/index.ts';
import { startEcho, type EchoServer } from '../harness/echo/server.ts';
import { action, dataplaneConfig, echoCluster, httpClient, newGateway, publish, published, rule, startDataplane, waitForVersion } from './dataplane-fixtures.ts';

/** A config whose only route sends everything to `echo`, plus `extraRoutes` distinct exact paths. */
function configFor(gateway: GatewayRef, port: number, echo: EchoServer, extraRoutes = 0): DataplaneConfig {
  const rules = [rule(0)];
  for (let i = 0; i < extraRoutes; i++) rules.unshift(rule(0, { path: { type: 'Exact', value: `/route/${i}` } }));
  return dataplaneConfig(gateway, {
    listeners: [{ id: 'l', port, protocol: 'HTTP', rules }],
    actions: [action('a', echo.pod)],
    clusters: [echoCluster(echo.pod, [echo])],
  });
}

async function readAck(client: Awaited<ReturnType<typeof redisClient>>, gateway: GatewayRef, pod: string): Promise<ConfigAck | undefined> {
  const raw = await client.hget(ackKey(gateway), pod);
  return raw === null ? undefined : decodeAck(raw);
}

t.test('config swaps under steady load fail no request', async (t) => {
  const { url } = await redis();
  const client = await redisClient(t);
  const blue = await startEcho({ pod: 'blue', log: () => undefined });
  const green = await startEcho({ pod: 'green', log: () => undefined });
  t.teardown(() => Promise.all([blue.close(), green.close()]));
  const gateway = newGateway();
  const port = await freePort();
  const dataplane = await startDataplane(t, url, gateway);
  await publish(client, gateway, published(configFor(gateway, port, blue), 1));
  await waitForVersion(dataplane, 1);

  const agent = new Agent({ connections: 16 });
  t.teardown(() => agent.close());
  let stop = false;
  let ok = 0;
  const failures: string[] = [];
  const seen = new Set<string>();
  const worker = async (): Promise<void> => {
    while (!stop) {
      try {
        const response = await request(`http://127.0.0.1:${port}/load`, { dispatcher: agent, headers: { host: 'example.com' } });
        const body = await response.body.text();
        if (response.statusCode === 200) {
          ok++;
          seen.add((JSON.parse(body) as { pod: string }).pod);
        } else failures.push(`status ${response.statusCode}`);
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
  };
  const workers = Array.from({ length: 16 }, () => worker());
  // Ten swaps between backends, each config with 1,000 routes so compilation takes real work.
  // Load keeps flowing across every swap: the next one waits for 20 answers of the current
  // config (counted, not timed, so a slow machine makes the test slower, not wrong).
  for (let version = 2; version <= 11; version++) {
    await publish(client, gateway, published(configFor(gateway, port, version % 2 === 0 ? green : blue, 1_000), version));
    await waitForVersion(dataplane, version);
    const target = ok + 20;
    await poll(() => (ok >= target || failures.length > 0 ? true : undefined), { what: `20 answers after swap ${version}`, timeoutMs: 30_000 });
  }
  stop = true;
  await Promise.all(workers);
  t.same(failures, [], 'no request failed');
  t.ok(ok >= 200, `${ok} requests succeeded across the ten swaps`);
  t.same([...seen].sort(), ['blue', 'green'], 'both configs served traffic');
});

t.test('Redis going away: traffic continues, and the dataplane catches up when it returns', async (t) => {
  const server = await privateRedis(t);
  const client = await redisClient(t, server, { retryStrategy: () => 50, maxRetriesPerRequest: null });
  const one = await startEcho({ pod: 'one', log: () => undefined });
  const two = await startEcho({ pod: 'two', log: () => undefined });
  t.teardown(() => Promise.all([one.close(), two.close()]));
  const gateway = newGateway();
  const port = await freePort();
  const dataplane = await startDataplane(t, server.url, gateway);
  await publish(client, gateway, published(configFor(gateway, port, one), 1));
  await waitForVersion(dataplane, 1);
  const get = httpClient(t);

  await server.stop();
  for (let i = 0; i < 10; i++) t.equal((await get(port, '/')).echo?.pod, 'one', 'served from the last good config while Redis is down');
  await server.start();
  // Redis returns empty (no persistence); the operator republishes a newer version.
  await poll(async () => ((await client.ping().catch(() => '')) === 'PONG' ? true : undefined), { what: 'test client reconnected', timeoutMs: 10_000 });
  await publish(client, gateway, published(configFor(gateway, port, two), 2));
  await waitForVersion(dataplane, 2);
  t.equal((await get(port, '/')).echo?.pod, 'two');
  await poll(async () => ((await readAck(client, gateway, dataplane.subscriber.podName)) as { appliedVersion?: number } | undefined)?.appliedVersion === 2 ? true : undefined, { what: 'ack of version 2', timeoutMs: 5_000 });
});

t.test('a version published while the dataplane was disconnected is fetched on reconnect', async (t) => {
  const server = await privateRedis(t);
  const one = await startEcho({ pod: 'one', log: () => undefined });
  const two = await startEcho({ pod: 'two', log: () => undefined });
  t.teardown(() => Promise.all([one.close(), two.close()]));
  const gateway = newGateway();
  const port = await freePort();
  const dataplane = await startDataplane(t, server.url, gateway);
  const client = await redisClient(t, server, { retryStrategy: () => 50, maxRetriesPerRequest: null });
  await publish(client, gateway, published(configFor(gateway, port, one), 1));
  await waitForVersion(dataplane, 1);
  // Kill only the dataplane's connections: the notification for version 2 is lost, the key is not.
  await client.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
  await client.set(`weir:config:${gateway.namespace}/${gateway.name}`, JSON.stringify(published(configFor(gateway, port, two), 2)));
  await client.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
  await waitForVersion(dataplane, 2);
  t.equal((await httpClient(t)(port, '/')).echo?.pod, 'two');
});

t.test('invalid configs are rejected, reported, and do not disturb traffic', async (t) => {
  const { url } = await redis();
  const client = await redisClient(t);
  const echo = await startEcho({ pod: 'good', log: () => undefined });
  t.teardown(() => echo.close());
  const gateway = newGateway();
  const port = await freePort();
  const dataplane = await startDataplane(t, url, gateway);
  const get = httpClient(t);
  const admin = async (path: string): Promise<{ status: number; text: string }> => {
    const response = await request(`http://127.0.0.1:${dataplane.adminPort}${path}`);
    return { status: response.statusCode, text: await response.body.text() };
  };
  t.equal((await admin('/readyz')).status, 503, 'not ready before the first config');
  t.equal((await admin('/healthz')).status, 200);

  await publish(client, gateway, published(configFor(gateway, port, echo), 1));
  await waitForVersion(dataplane, 1);
  t.equal((await admin('/readyz')).status, 200, 'ready once a config is served');

  // 1. Not matching the schema.
  const broken = published(configFor(gateway, port, echo), 2) as unknown as { config: { listeners: unknown[] } };
  broken.config.listeners = [{ id: 'l', port: 'eighty', protocol: 'HTTP', rules: [] }];
  await publish(client, gateway, JSON.stringify(broken), 2);
  const pod = dataplane.subscriber.podName;
  const ack = await poll(async () => {
    const value = await readAck(client, gateway, pod);
    return value?.rejectedVersion === 2 ? value : undefined;
  }, { what: 'ack reporting the rejection', timeoutMs: 5_000 });
  t.equal(ack.appliedVersion, 1);
  t.match(ack.rejectedReason, /does not match the contract/);
  t.equal((await get(port, '/')).echo?.pod, 'good', 'traffic still served by version 1');

  // 2. Valid shape, but a regular expression that does not compile.
  const badRegex = configFor(gateway, port, echo);
  badRegex.listeners = [{ id: 'l', port, protocol: 'HTTP', rules: [rule(0, { path: { type: 'RegularExpression', value: '/(unclosed' } })] }];
  await publish(client, gateway, published(badRegex, 3));
  await poll(async () => ((await readAck(client, gateway, pod)) as { rejectedVersion?: number }).rejectedVersion === 3 ? true : undefined, { what: 'rejection of version 3', timeoutMs: 5_000 });
  // 3. Not JSON at all.
  await publish(client, gateway, '{"version": 4, nope', 4);
  await poll(async () => (/not valid JSON/.test(((await readAck(client, gateway, pod)) as { rejectedReason?: string }).rejectedReason ?? '') ? true : undefined), { what: 'rejection of bad JSON', timeoutMs: 5_000 });
  t.equal(dataplane.subscriber.applied.version, 1);
  t.equal((await get(port, '/')).echo?.pod, 'good');

  const metrics = (await admin('/metrics')).text;
  t.match(metrics, /weir_config_rejects_total 3/);
  t.match(metrics, /weir_config_version 1/);
  t.match(metrics, /weir_http_requests_total\{route="HTTPRoute\/test\/a",rule="a",backend="good",code="200"\} \d+/);

  // 4. An older or equal version is ignored; a newer valid one is applied and clears the rejection.
  await publish(client, gateway, published(configFor(gateway, port, echo, 3), 5));
  await waitForVersion(dataplane, 5);
  await poll(async () => {
    const value = (await readAck(client, gateway, pod)) as { appliedVersion: number; rejectedVersion?: number };
    return value.appliedVersion === 5 && value.rejectedVersion === undefined ? true : undefined;
  }, { what: 'ack of version 5 without rejection', timeoutMs: 5_000 });
  await publish(client, gateway, published(configFor(gateway, port, echo), 4));
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.equal(dataplane.subscriber.applied.version, 5, 'an older version is not applied');
});

t.test('listener ports follow the config: new ones open, removed ones close', async (t) => {
  const { url } = await redis();
  const client = await redisClient(t);
  const echo = await startEcho({ pod: 'p', log: () => undefined });
  t.teardown(() => echo.close());
  const gateway = newGateway();
  const [first, second] = [await freePort(), await freePort()];
  const dataplane = await startDataplane(t, url, gateway);
  await publish(client, gateway, published(configFor(gateway, first, echo), 1));
  await waitForVersion(dataplane, 1);
  const get = httpClient(t);
  t.equal((await get(first, '/')).status, 200);
  await publish(client, gateway, published(configFor(gateway, second, echo), 2));
  await waitForVersion(dataplane, 2);
  t.equal((await get(second, '/')).status, 200);
  await poll(() => (dataplane.listeners.ports.includes(first) ? undefined : true), { what: 'first port closed', timeoutMs: 5_000 });
  await t.rejects(request(`http://127.0.0.1:${first}/`, { dispatcher: new Agent() }), 'the removed port refuses connections');
});

// The publisher with its Redis transport against a real redis-server: revisions only grow
// (within a term, across delete + re-create, and across terms), nothing is written when the
// digest is unchanged, a removed Gateway's key goes with a `deleted` notification, keys of
// other installations are left alone, an older term is fenced out, and a Redis that lost or
// rolled back its data is noticed and rewritten under newer revisions.
import t from 'tap';
import type { Redis } from 'ioredis';
import { compareRevisions, decodeEnvelope, decodeNotification } from '../../api-types/config-codec.ts';
import { DATAPLANE_CONFIG_SCHEMA, type DataplaneConfig, type PublishedConfig } from '../../api-types/dataplane-config.ts';
import { CONFIG_CHANNEL, configKey, type ConfigNotification } from '../../api-types/redis-contract.ts';
import { ConfigPublisher, FencedError } from '../../operator/publisher/publisher.ts';
import { RedisConfigStore } from '../../operator/publisher/redis-store.ts';
import { privateRedis, redis, redisClient, uniqueName, type RedisEndpoint, type TestContext } from '../harness/index.ts';
import { connectRedis } from '../harness/clients.ts';

function config(namespace: string, name: string, trustedProxyHops = 0): DataplaneConfig {
  return {
    schema: DATAPLANE_CONFIG_SCHEMA,
    gateway: { namespace, name },
    listeners: [],
    actions: [],
    clusters: [],
    certificates: [],
    caBundles: [],
    xfcc: { mode: 'Sanitize', subject: false, cert: false, chain: false, uri: false, dns: false },
    trustedProxyHops,
  };
}

async function notifications(t: TestContext, endpoint: RedisEndpoint, namespace: string): Promise<ConfigNotification[]> {
  const subscriber = await connectRedis(endpoint.url);
  t.teardown(() => { subscriber.disconnect(); });
  const seen: ConfigNotification[] = [];
  subscriber.on('message', (_channel: string, message: string) => {
    const parsed = decodeNotification(message);
    if (parsed?.gateway.startsWith(`${namespace}/`) === true) seen.push(parsed);
  });
  await subscriber.subscribe(CONFIG_CHANNEL);
  return seen;
}

async function stored(client: Redis, namespace: string, name: string): Promise<PublishedConfig | undefined> {
  const raw = await client.get(configKey({ namespace, name }));
  if (raw === null) return undefined;
  const decoded = decodeEnvelope(raw);
  if (!decoded.ok) throw new Error(`the stored envelope fails the dataplane's decoder: ${decoded.reason}`);
  return decoded.value;
}

function publisher(client: Redis, controllerName: string, epoch: number): ConfigPublisher {
  const created = new ConfigPublisher(new RedisConfigStore({ redis: client, controllerName }));
  created.startTerm(epoch);
  return created;
}

t.test('publish, skip unchanged, remove, re-create, and a new term', async (t) => {
  const endpoint = await redis();
  const client = await redisClient(t);
  const ns = uniqueName('pub');
  const controllerName = `weir.dev/${ns}`;
  const seen = await notifications(t, endpoint, ns);
  const first = publisher(client, controllerName, 100);
  const a = { namespace: ns, name: 'a' };

  t.same((await first.publish([{ gateway: a, config: config(ns, 'a') }])).changed, [`${ns}/a`]);
  t.match(await stored(client, ns, 'a'), { epoch: 100, version: 1 }, 'the stored envelope passes the dataplane decoder');
  t.same((await first.publish([{ gateway: a, config: config(ns, 'a') }])).changed, [], 'unchanged digest: no write');
  t.match((await first.publish([{ gateway: a, config: config(ns, 'a', 2) }])).current.get(`${ns}/a`), { epoch: 100, version: 2 });

  // Another installation's key in the same Redis is not touched.
  await client.set(configKey({ namespace: ns, name: 'foreign' }), '{}');
  t.same((await first.publish([])).removed, [`${ns}/a`]);
  t.equal(await stored(client, ns, 'a'), undefined);
  t.equal(await client.get(configKey({ namespace: ns, name: 'foreign' })), '{}');

  // Re-created in the same term: continues above the removal.
  t.match((await first.publish([{ gateway: a, config: config(ns, 'a') }])).current.get(`${ns}/a`), { epoch: 100, version: 4 });

  // A new term (a new leader, or this one restarted) writes everything again under its epoch.
  const second = publisher(client, controllerName, 200);
  const renewed = await second.publish([{ gateway: a, config: config(ns, 'a') }]);
  t.same(renewed.changed, [`${ns}/a`], 'same digest, still rewritten under the new epoch');
  t.match(await stored(client, ns, 'a'), { epoch: 200, version: 1 });

  await new Promise((resolve) => setTimeout(resolve, 100));
  t.same(seen.map((n) => [n.epoch, n.version, n.deleted === true]), [
    [100, 1, false],
    [100, 2, false],
    [100, 3, true],
    [100, 4, false],
    [200, 1, false],
  ]);
  for (let i = 1; i < seen.length; i++) t.ok(compareRevisions(seen[i]!, seen[i - 1]!) > 0, 'every notification is newer than the one before');
});

t.test('an operator of an older term is fenced out', async (t) => {
  const client = await redisClient(t);
  const ns = uniqueName('fence');
  const controllerName = `weir.dev/${ns}`;
  const a = { namespace: ns, name: 'a' };
  const old = publisher(client, controllerName, 10);
  await old.publish([{ gateway: a, config: config(ns, 'a') }]);
  const successor = publisher(client, controllerName, 11);
  await successor.publish([{ gateway: a, config: config(ns, 'a', 1) }]);
  await t.rejects(old.publish([{ gateway: a, config: config(ns, 'a', 2) }]), FencedError, 'the stale leader cannot overwrite');
  await t.rejects(old.publish([]), FencedError, 'nor delete');
  t.match(await stored(client, ns, 'a'), { epoch: 11, version: 1, config: { trustedProxyHops: 1 } });
});

t.test('a flushed, restarted or rolled-back Redis is noticed and rewritten with newer revisions', async (t) => {
  const server = await privateRedis(t);
  const client = await redisClient(t, server, { retryStrategy: () => 50, maxRetriesPerRequest: null });
  const ns = uniqueName('lost');
  const controllerName = `weir.dev/${ns}`;
  const gateways = ['a', 'b'].map((name) => ({ gateway: { namespace: ns, name }, config: config(ns, name) }));
  const pub = publisher(client, controllerName, 5);
  await pub.publish(gateways);
  t.equal(await pub.verify(), false, 'nothing lost yet');

  await client.flushall();
  t.equal(await pub.verify(), true, 'FLUSHALL noticed');
  const afterFlush = await pub.publish(gateways);
  t.same(afterFlush.changed, [`${ns}/a`, `${ns}/b`], 'every Gateway written again');
  t.match(await stored(client, ns, 'a'), { epoch: 5, version: 2 }, 'above the version the dataplanes hold');

  await server.restart();
  await client.ping();
  t.equal(await pub.verify(), true, 'a restart without persistence noticed');
  await pub.publish(gateways);
  t.match(await stored(client, ns, 'b'), { epoch: 5, version: 3 });

  // An old snapshot restored: Redis holds version 3 again after version 4 was published.
  const snapshot = await client.get(configKey({ namespace: ns, name: 'a' }));
  const marker = await client.hgetall(`weir:operator:${controllerName}:marker`);
  await pub.publish([{ ...gateways[0]!, config: config(ns, 'a', 3) }, gateways[1]!]);
  t.match(await stored(client, ns, 'a'), { epoch: 5, version: 4 });
  await client.set(configKey({ namespace: ns, name: 'a' }), snapshot!);
  await client.hset(`weir:operator:${controllerName}:marker`, marker);
  t.equal(await pub.verify(), true, 'the rollback noticed');
  await pub.publish([{ ...gateways[0]!, config: config(ns, 'a', 3) }, gateways[1]!]);
  t.match(await stored(client, ns, 'a'), { epoch: 5, version: 5, config: { trustedProxyHops: 3 } }, 'the current config under a revision above any before');
});

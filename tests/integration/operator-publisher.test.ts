// The Redis publisher against a real redis-server: versions only grow (also across a new
// publisher instance, i.e. an operator restart, and across delete + re-create), nothing is
// written when the digest is unchanged, a removed Gateway's key goes with a `deleted`
// notification, and keys of other installations are left alone.
import t from 'tap';
import type { Redis } from 'ioredis';
import { DATAPLANE_CONFIG_SCHEMA, validatePublishedConfig, type DataplaneConfig } from '../../api-types/dataplane-config.ts';
import { CONFIG_CHANNEL, configKey, isConfigNotification, type ConfigNotification } from '../../api-types/redis-contract.ts';
import { RedisPublisher } from '../../operator/publisher/publisher.ts';
import { redis, redisClient, uniqueName, type TestContext } from '../harness/index.ts';
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

async function notifications(t: TestContext, namespace: string): Promise<ConfigNotification[]> {
  const subscriber = await connectRedis((await redis()).url);
  t.teardown(() => { subscriber.disconnect(); });
  const seen: ConfigNotification[] = [];
  subscriber.on('message', (_channel: string, message: string) => {
    const parsed: unknown = JSON.parse(message);
    if (isConfigNotification.Check(parsed) && parsed.gateway.startsWith(`${namespace}/`)) seen.push(parsed);
  });
  await subscriber.subscribe(CONFIG_CHANNEL);
  return seen;
}

async function stored(client: Redis, namespace: string, name: string): Promise<unknown> {
  const raw = await client.get(configKey({ namespace, name }));
  return raw === null ? undefined : JSON.parse(raw);
}

t.test('publish, skip unchanged, version across restarts, remove, re-create', async (t) => {
  const client = await redisClient(t);
  const ns = uniqueName('pub');
  const controllerName = `weir.dev/${ns}`;
  const seen = await notifications(t, ns);
  const publisher = new RedisPublisher({ redis: client, controllerName });

  const first = await publisher.publish([{ gateway: { namespace: ns, name: 'a' }, config: config(ns, 'a') }]);
  t.same(first.changed, [`${ns}/a`]);
  const envelope = validatePublishedConfig(await stored(client, ns, 'a'));
  t.ok(envelope.ok, 'the stored envelope passes the dataplane contract check');
  t.equal(envelope.ok && envelope.value.version, 1);

  const unchanged = await publisher.publish([{ gateway: { namespace: ns, name: 'a' }, config: config(ns, 'a') }]);
  t.same(unchanged.changed, []);
  const restarted = new RedisPublisher({ redis: client, controllerName });
  t.same((await restarted.publish([{ gateway: { namespace: ns, name: 'a' }, config: config(ns, 'a') }])).changed, [], 'a new publisher reads the digest from Redis');
  const changed = await restarted.publish([{ gateway: { namespace: ns, name: 'a' }, config: config(ns, 'a', 2) }]);
  t.equal(changed.current.get(`${ns}/a`)?.version, 2, 'the version continues from Redis');

  // Leadership gained: same version notified again, no new version.
  const renotified = await restarted.publish([{ gateway: { namespace: ns, name: 'a' }, config: config(ns, 'a', 2) }], { renotify: true });
  t.same(renotified.changed, []);

  // Another installation's key in the same Redis is not touched.
  await client.set(configKey({ namespace: ns, name: 'foreign' }), '{}');
  const removed = await restarted.publish([]);
  t.same(removed.removed, [`${ns}/a`]);
  t.equal(await stored(client, ns, 'a'), undefined);
  t.same(await stored(client, ns, 'foreign'), {});

  // Re-created: continues above the old version.
  const recreated = await restarted.publish([{ gateway: { namespace: ns, name: 'a' }, config: config(ns, 'a') }]);
  t.equal(recreated.current.get(`${ns}/a`)?.version, 3);

  await new Promise((resolve) => setTimeout(resolve, 100));
  t.same(seen.map((n) => [n.gateway, n.version, n.deleted === true]), [
    [`${ns}/a`, 1, false],
    [`${ns}/a`, 2, false],
    [`${ns}/a`, 2, false],
    [`${ns}/a`, 2, true],
    [`${ns}/a`, 3, false],
  ]);
});

// Proves the harness hands out a real redis-server: data, pub/sub, no persistence, outages.
import { once } from 'node:events';
import t from 'tap';
import { privateRedis, redis, redisClient, uniqueName } from '../harness/index.ts';

t.test('the shared Redis is a real redis-server 7 without persistence', async (t) => {
  const client = await redisClient(t);
  const info = await client.info('server');
  t.match(info, /redis_version:7\./);
  t.same(await client.config('GET', 'save'), ['save', '']);
  t.same(await client.config('GET', 'appendonly'), ['appendonly', 'no']);
  t.equal((await redis()).host, '127.0.0.1');
});

t.test('SET and GET round trip', async (t) => {
  const client = await redisClient(t);
  const key = uniqueName('weir:test:key');
  t.equal(await client.set(key, 'value-1', 'EX', 60), 'OK');
  t.equal(await client.get(key), 'value-1');
  t.equal(await client.get(uniqueName('weir:test:missing')), null);
});

t.test('PUBLISH reaches a SUBSCRIBEr on another connection', async (t) => {
  const subscriber = await redisClient(t);
  const publisher = await redisClient(t);
  const channel = uniqueName('weir:test:channel');
  await subscriber.subscribe(channel);
  const received = once(subscriber, 'message') as Promise<[string, string]>;
  t.equal(await publisher.publish(channel, 'hello'), 1, 'one subscriber received it');
  t.same(await received, [channel, 'hello']);
});

t.test('a private Redis can go down and come back empty', async (t) => {
  const server = await privateRedis(t);
  const client = await redisClient(t, server, {
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => 50,
  });
  await client.set('k', 'v');

  await server.stop();
  t.equal(server.running, false);
  await t.rejects(client.get('k'), 'commands fail while Redis is down');

  await server.start();
  await waitForStatus(client, 'ready');
  t.equal(await client.get('k'), null, 'nothing survived the restart (no persistence)');

  await client.set('k', 'v2');
  await server.restart();
  await waitForStatus(client, 'ready');
  t.equal(await client.get('k'), null);
});

async function waitForStatus(client: { status: string; once(event: string, fn: () => void): unknown }, status: string): Promise<void> {
  while (client.status !== status) {
    await new Promise<void>((resolve) => client.once(status, resolve));
  }
}

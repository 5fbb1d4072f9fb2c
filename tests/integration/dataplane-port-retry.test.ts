// A config whose port is still taken (e.g. by a draining process) is not a bad config: the
// dataplane reports it in its ack, keeps serving what it has, and applies the same version
// once the port is free, without waiting for a newer one.
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { Redis } from 'ioredis';
import t from 'tap';
import { ackKey } from '../../api-types/redis-contract.ts';
import type { GatewayRef } from '../../api-types/gateway-ref.ts';
import { freePorts, poll, redis, redisClient } from '../harness/index.ts';
import { action, dataplaneConfig, echoCluster, httpClient, newGateway, publish, published, rule, startDataplane, waitForVersion } from './dataplane-fixtures.ts';
import { startEcho } from '../harness/echo/server.ts';

interface Ack { appliedVersion: number; rejectedReason?: string }

async function readAck(client: Redis, gateway: GatewayRef, pod: string): Promise<Ack | undefined> {
  const raw = await client.hget(ackKey(gateway), pod);
  return raw === null ? undefined : (JSON.parse(raw) as Ack);
}

t.test('a taken port is retried until it is free', async (t) => {
  const { url } = await redis();
  const client = await redisClient(t);
  const [port] = (await freePorts(1)) as [number];
  const blocker = createServer();
  blocker.listen(port, '127.0.0.1');
  await once(blocker, 'listening');
  const echo = await startEcho({ service: 'echo', pod: 'echo-0' });
  t.teardown(() => echo.close());
  const gateway = newGateway();
  const dataplane = await startDataplane(t, url, gateway);
  await publish(client, gateway, published(dataplaneConfig(gateway, {
    listeners: [{ id: 'test/gw/http', port, protocol: 'HTTP', rules: [rule(0)] }],
    actions: [action('echo', 'echo')],
    clusters: [echoCluster('echo', [echo])],
  }), 1));

  const ack = await poll(async () => {
    const parsed = await readAck(client, gateway, dataplane.subscriber.podName);
    return parsed?.rejectedReason === undefined ? undefined : parsed;
  }, { what: 'an ack reporting the taken port', timeoutMs: 10_000 });
  t.match(ack.rejectedReason, /EADDRINUSE/, 'the ack says why');
  t.equal(ack.appliedVersion, 0, 'nothing applied yet');

  blocker.close();
  await waitForVersion(dataplane, 1);
  const get = httpClient(t);
  const answer = await get(port, '/retried');
  t.equal(answer.status, 200, 'served once the port was free');
  const cleared = await poll(async () => {
    const parsed = await readAck(client, gateway, dataplane.subscriber.podName);
    return parsed?.appliedVersion === 1 ? parsed : undefined;
  }, { what: 'an ack for version 1', timeoutMs: 10_000 });
  t.equal(cleared.rejectedReason, undefined, 'the ack no longer reports the port once applied');
});

import t from 'tap';
import { freePort, redis, redisClient } from '../harness/index.ts';
import { startEcho } from '../harness/echo/server.ts';
import { action, dataplaneConfig, echoCluster, httpClient, newGateway, publish, published, rule, startDataplane, waitForVersion } from './dataplane-fixtures.ts';

t.test('a published config is served', async (t) => {
  const { url } = await redis();
  const client = await redisClient(t);
  const echo = await startEcho({ pod: 'echo-a', log: () => undefined });
  t.teardown(() => echo.close());
  const gateway = newGateway();
  const port = await freePort();
  const dataplane = await startDataplane(t, url, gateway);
  await publish(client, gateway, published(dataplaneConfig(gateway, {
    listeners: [{ id: 'l', port, protocol: 'HTTP', rules: [rule(0)] }],
    actions: [action('a', 'c')],
    clusters: [echoCluster('c', [echo])],
  }), 1));
  await waitForVersion(dataplane, 1);
  const get = httpClient(t);
  const answer = await get(port, '/hello?x=1');
  t.equal(answer.status, 200);
  t.equal(answer.echo?.pod, 'echo-a');
  t.equal(answer.echo?.path, '/hello?x=1');
  t.equal(answer.echo?.host, 'example.com');
  t.same(answer.echo?.headers['X-Forwarded-For'], ['127.0.0.1']);
});

// The dataplane as its container runs it: `node dataplane/main.ts` configured by environment,
// serving a config from Redis, and on SIGTERM finishing in-flight requests before exiting.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import t from 'tap';
import { Agent, request } from 'undici';
import { freePorts, poll, redis, redisClient } from '../harness/index.ts';
import { startEcho } from '../harness/echo/server.ts';
import { action, dataplaneConfig, echoCluster, newGateway, publish, published, rule } from './dataplane-fixtures.ts';

t.test('main.ts serves from Redis and drains in-flight requests on SIGTERM', async (t) => {
  const { url } = await redis();
  const client = await redisClient(t);
  const echo = await startEcho({ pod: 'slow', log: () => undefined });
  t.teardown(() => echo.close());
  const gateway = newGateway();
  const [port, adminPort] = await freePorts(2);
  const child = spawn(process.execPath, ['dataplane/main.ts'], {
    env: {
      ...process.env,
      REDIS_URL: url,
      WEIR_GATEWAY: `${gateway.namespace}/${gateway.name}`,
      POD_NAME: 'main-test',
      WEIR_LISTEN_HOST: '127.0.0.1',
      WEIR_ADMIN_HOST: '127.0.0.1',
      WEIR_ADMIN_PORT: String(adminPort),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });

  await publish(client, gateway, published(dataplaneConfig(gateway, {
    listeners: [{ id: 'l', port: port!, protocol: 'HTTP', rules: [rule(0)] }],
    actions: [action('a', 'slow')],
    clusters: [echoCluster('slow', [echo])],
  }), 1));
  await poll(async () => {
    const response = await request(`http://127.0.0.1:${adminPort}/readyz`).catch(() => undefined);
    await response?.body.dump();
    return response?.statusCode === 200 ? true : undefined;
  }, { what: 'dataplane ready', timeoutMs: 60_000 });

  const agent = new Agent();
  t.teardown(() => agent.destroy());
  const inFlight = request(`http://127.0.0.1:${port}/slow?delay=1s`, { dispatcher: agent });
  await poll(() => (echo.logLines.length > 0 ? true : undefined), { what: 'request reached the backend', timeoutMs: 5_000 });
  const signalled = performance.now();
  child.kill('SIGTERM');
  const response = await inFlight;
  t.equal(response.statusCode, 200, 'the in-flight request finished');
  t.equal(((await response.body.json()) as { pod: string }).pod, 'slow');
  const [code] = await exited;
  t.equal(code, 0, 'exited cleanly');
  t.ok(performance.now() - signalled < 10_000);
  await t.rejects(request(`http://127.0.0.1:${port}/`, { dispatcher: new Agent() }), 'nothing listens after exit');
});

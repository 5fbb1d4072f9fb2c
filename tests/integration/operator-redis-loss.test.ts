// Issue 16 §0: Redis losing its data while traffic flows. A real operator process and two
// real dataplanes (in this process, on 127.0.0.1 and 127.0.0.2) follow a dedicated
// redis-server (the shared one must not be killed or flushed), with the real kube-apiserver.
//   1. redis-server killed, an HTTPRoute created while it is down, Redis started again EMPTY;
//   2. FLUSHALL, and an HTTPRoute created right after it.
// In both: constant traffic to an untouched route fails no request; the new route goes live on
// both dataplanes within a bound; once the operator has seen the route the Gateway is never
// Programmed=True while no dataplane serves it (during the outage it says Pending, with why),
// and it is True afterwards. (After a FLUSHALL the Pending window is too short to sample.)
// The routes answer with redirects, so the dataplanes serve them without a backend.
import { writeFileSync } from 'node:fs';
import t from 'tap';
import { pino } from 'pino';
import { Agent, request } from 'undici';
import { compareRevisions } from '../../api-types/config-codec.ts';
import { Dataplane } from '../../dataplane/dataplane.ts';
import { freePort, kube, privateRedis, redisClient, testNamespace, type KubeHarness, type RedisServer, type TestContext } from '../harness/index.ts';
import { GROUP, apply, condition, gatewayConditions, gatewayYaml, operatorSetup, published, startOperator, until } from './operator-helpers.ts';

const STEADY = 'steady.example.com';
const FRESH = 'fresh.example.com';
/** Upper bound for the new route to go live once Redis is back (reconnect backoff + republish + apply). */
const LIVE_WITHIN_MS = 15_000;
/** Generous waits for the kube-apiserver round trips on a loaded machine. */
const SETTLE_MS = 60_000;

function redirectRoute(namespace: string, name: string, hostname: string, statusCode: 301 | 302): string {
  return `apiVersion: ${GROUP}/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  parentRefs: [{ name: edge }]
  hostnames: [${hostname}]
  rules:
    - filters: [{ type: RequestRedirect, requestRedirect: { hostname: target.example.com, statusCode: ${statusCode} } }]
`;
}

interface Scene {
  readonly k: KubeHarness;
  readonly namespace: string;
  readonly server: RedisServer;
  readonly dataplanes: readonly Dataplane[];
  readonly addresses: readonly string[];
  readonly port: number;
  readonly status: (address: string, host: string) => Promise<number>;
}

async function scene(t: TestContext, name: string): Promise<Scene> {
  const k = await kube();
  const namespace = await testNamespace(t, name);
  const server = await privateRedis(t);
  const setup = await operatorSetup(t, namespace);
  const operator = startOperator(t, { ...setup, redisUrl: server.url }, `${name}-operator`);
  t.teardown(() => { if (process.env.WEIR_TEST_LOG_LEVEL !== undefined) writeFileSync(`/tmp/${name}-operator.log`, operator.output()); });
  const port = await freePort();
  await apply(k, [gatewayYaml(namespace, setup.className, 'edge', [port]), redirectRoute(namespace, 'steady', STEADY, 301)].join('---\n'));
  const addresses = ['127.0.0.1', '127.0.0.2'];
  const dataplanes = await Promise.all(addresses.map(async (listenHost, index) => {
    const dataplane = await Dataplane.start({
      redisUrl: server.url,
      gateway: { namespace, name: 'edge' },
      podName: `${name}-dp-${index}`,
      log: pino({ level: process.env.WEIR_TEST_LOG_LEVEL ?? 'silent' }),
      listenHost,
      adminHost: '127.0.0.1',
      adminPort: 0,
    });
    t.teardown(() => dataplane.stop());
    return dataplane;
  }));
  const agent = new Agent({ connections: 8, keepAliveTimeout: 2_000 });
  t.teardown(() => agent.close());
  const status = async (address: string, host: string): Promise<number> => {
    const response = await request(`http://${address}:${port}/`, { dispatcher: agent, headers: { host } });
    await response.body.dump();
    return response.statusCode;
  };
  await until('both dataplanes serve the steady route', async () => {
    const answers = await Promise.all(addresses.map((address) => status(address, STEADY).catch(() => 0)));
    return answers.every((code) => code === 301);
  }, SETTLE_MS);
  await until('Programmed=True', async () => condition(await gatewayConditions(k, namespace, 'edge'), 'Programmed')?.status === 'True', SETTLE_MS);
  return { k, namespace, server, dataplanes, addresses, port, status };
}

interface Traffic {
  stop(): Promise<{ sent: number; failed: number; failures: string[] }>;
}

/** Four clients sending to the untouched route on both dataplanes, without pause. */
function traffic(t: TestContext, s: Scene): Traffic {
  const state = { running: true };
  let sent = 0;
  const failures: string[] = [];
  const worker = async (offset: number): Promise<void> => {
    for (let i = offset; state.running; i++) {
      sent++;
      const address = s.addresses[i % s.addresses.length]!;
      try {
        const code = await s.status(address, STEADY);
        if (code !== 301) failures.push(`${address}: status ${code}`);
      } catch (error) {
        failures.push(`${address}: ${(error as Error).message}`);
      }
    }
  };
  const workers = [0, 1, 2, 3].map((offset) => worker(offset));
  const stop = async (): Promise<void> => {
    state.running = false;
    await Promise.all(workers);
  };
  t.teardown(stop);
  return {
    async stop() {
      await stop();
      return { sent, failed: failures.length, failures: failures.slice(0, 10) };
    },
  };
}

interface ProgrammedWatch {
  /** Samples where the Gateway said Programmed=True while no dataplane served the new route. */
  readonly early: string[];
  /** Messages of the Programmed=False conditions seen. */
  readonly pendingMessages: Set<string>;
  stop(): Promise<void>;
}

/**
 * Samples the Gateway's Programmed condition, then (after it) whether a dataplane serves the
 * new route. Dataplanes never go back to an older config, so "True" read before "served" in
 * the same sample means the status was written before any pod applied it.
 */
function watchProgrammed(t: TestContext, s: Scene): ProgrammedWatch {
  const state = { running: true };
  const early: string[] = [];
  const pendingMessages = new Set<string>();
  const loop = (async () => {
    while (state.running) {
      const programmed = condition(await gatewayConditions(s.k, s.namespace, 'edge'), 'Programmed');
      const served = await Promise.all(s.addresses.map((address) => s.status(address, FRESH).catch(() => 0)));
      if (programmed?.status === 'True' && !served.includes(302)) early.push(`${new Date().toISOString()} ${programmed.message}`);
      if (programmed?.status === 'False') pendingMessages.add(`${programmed.reason}: ${programmed.message}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  t.teardown(async () => {
    state.running = false;
    await loop;
  });
  return {
    early,
    pendingMessages,
    async stop() {
      state.running = false;
      await loop;
    },
  };
}

async function freshLiveOnBoth(s: Scene): Promise<number> {
  const started = performance.now();
  await until('the new route to go live on both dataplanes', async () => {
    const answers = await Promise.all(s.addresses.map((address) => s.status(address, FRESH).catch(() => 0)));
    return answers.every((code) => code === 302);
  }, LIVE_WITHIN_MS + 5_000);
  return Math.round(performance.now() - started);
}

t.test('redis-server killed, a route created meanwhile, Redis back empty', async (t) => {
  const s = await scene(t, 'loss-kill');
  const load = traffic(t, s);
  await s.server.stop();
  await apply(s.k, redirectRoute(s.namespace, 'fresh', FRESH, 302));
  await until('the Gateway to say the new config is not published', async () => {
    const programmed = condition(await gatewayConditions(s.k, s.namespace, 'edge'), 'Programmed');
    return programmed?.reason === 'Pending' && programmed.message.includes('could not be published');
  }, SETTLE_MS);
  // From here on the operator has seen the route: True would have to mean served.
  const watch = watchProgrammed(t, s);
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  for (const address of s.addresses) t.equal(await s.status(address, FRESH), 404, `${address} still serves the old config while Redis is down`);

  await s.server.start();
  const ttl = await freshLiveOnBoth(s);
  await until('Programmed=True again', async () => condition(await gatewayConditions(s.k, s.namespace, 'edge'), 'Programmed')?.status === 'True', SETTLE_MS);
  await watch.stop();
  const result = await load.stop();
  t.comment(`redis killed: ${result.sent} requests sent, ${result.failed} failed; new route live on both dataplanes ${ttl} ms after redis-server started again`);
  t.equal(result.failed, 0, `no request failed: ${result.failures.join('; ')}`);
  t.ok(result.sent > 100, `${result.sent} requests sent`);
  t.ok(ttl < LIVE_WITHIN_MS, `live within ${LIVE_WITHIN_MS} ms (${ttl} ms)`);
  t.same(watch.early, [], 'never Programmed=True while no dataplane served the new route');
  t.ok([...watch.pendingMessages].some((message) => message.includes('could not be published')), [...watch.pendingMessages].join('\n'));
  const client = await redisClient(t, s.server);
  const now = await published(client, s.namespace, 'edge');
  for (const dataplane of s.dataplanes) t.equal(dataplane.subscriber.applied.digest, now?.digest, 'each dataplane serves the digest in Redis');
});

t.test('FLUSHALL, and a route created right after it', async (t) => {
  const s = await scene(t, 'loss-flush');
  const client = await redisClient(t, s.server);
  const before = await published(client, s.namespace, 'edge');
  const load = traffic(t, s);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  await client.flushall();
  await apply(s.k, redirectRoute(s.namespace, 'fresh', FRESH, 302));
  const ttl = await freshLiveOnBoth(s);
  const watch = watchProgrammed(t, s);
  await until('Programmed=True again', async () => condition(await gatewayConditions(s.k, s.namespace, 'edge'), 'Programmed')?.status === 'True', SETTLE_MS);
  await watch.stop();
  const result = await load.stop();
  t.comment(`FLUSHALL: ${result.sent} requests sent, ${result.failed} failed; new route live on both dataplanes ${ttl} ms after the flush`);
  t.equal(result.failed, 0, `no request failed: ${result.failures.join('; ')}`);
  t.ok(result.sent > 100, `${result.sent} requests sent`);
  t.ok(ttl < LIVE_WITHIN_MS, `live within ${LIVE_WITHIN_MS} ms (${ttl} ms)`);
  t.same(watch.early, [], 'Programmed=True only while dataplanes serve the new route');
  const after = await published(client, s.namespace, 'edge');
  t.ok(before !== undefined && after !== undefined && compareRevisions(after, before) > 0, 'the republished revision is above the one before the flush');
  for (const dataplane of s.dataplanes) t.equal(dataplane.subscriber.applied.digest, after?.digest, 'each dataplane serves the digest in Redis');
  await until('both pods acked again after the flush', async () => (await client.hlen(`weir:ack:${s.namespace}/edge`)) === 2);
});

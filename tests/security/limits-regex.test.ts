// Pathological regular expressions against a real dataplane: patterns that backtrack
// exponentially elsewhere answer promptly here and do not stall other clients; patterns the
// shared dialect refuses never reach the request path.
import t from 'tap';
import { freePorts, redis, redisClient } from '../harness/index.ts';
import { action, dataplaneConfig, echoCluster, newGateway, publish, published, rule, startDataplane, waitForVersion } from '../integration/dataplane-fixtures.ts';
import { echoBackend, httpListener, latencyProbe, oneRequest, serveWithLimits } from './limits-fixtures.ts';

const get = (path: string, headers = ''): string => `GET ${path} HTTP/1.1\r\nhost: regex.example.test\r\n${headers}connection: close\r\n\r\n`;

t.test('/re/(a+)+ with long runs of a answers at once and other connections are not blocked', async (t) => {
  const [port] = (await freePorts(1)) as [number];
  await serveWithLimits(t, {}, () => ({
    listeners: [{
      id: 'test/gw/http',
      port,
      protocol: 'HTTP',
      rules: [
        rule(0, { path: { type: 'RegularExpression', value: '/re/(a+)+' } }),
        rule(0, { path: { type: 'PathPrefix', value: '/hdr' }, headers: [{ type: 'RegularExpression', name: 'x-evil', value: '(x+x+)+y' }] }),
        rule(0, { path: { type: 'Exact', value: '/probe' } }),
      ],
    }],
  }));
  t.match(await oneRequest(port, get('/probe')), /^HTTP\/1\.1 200 /, 'warm');
  const probe = latencyProbe(port);
  for (const count of [30, 40, 5_000]) {
    const started = performance.now();
    const answer = await oneRequest(port, get(`/re/${'a'.repeat(count)}!`));
    const elapsed = performance.now() - started;
    t.match(answer, /^HTTP\/1\.1 404 /, `${count} a's and a mismatch: 404`);
    t.ok(elapsed < 500, `answered in ${Math.round(elapsed)} ms`);
  }
  t.match(await oneRequest(port, get(`/re/${'a'.repeat(40)}`)), /^HTTP\/1\.1 200 /, 'a matching path is still routed');
  const started = performance.now();
  t.match(await oneRequest(port, get('/hdr', `x-evil: ${'x'.repeat(5_000)}\r\n`)), /^HTTP\/1\.1 404 /, 'a header regex built for backtracking: 404');
  t.ok(performance.now() - started < 500, `answered in ${Math.round(performance.now() - started)} ms`);
  const { worstMs, failures } = await probe.stop();
  t.same(failures, []);
  t.ok(worstMs < 500, `the worst latency of an unrelated client meanwhile was ${Math.round(worstMs)} ms`);
});

t.test('a config whose regex the dialect refuses is rejected whole; the previous one keeps serving', async (t) => {
  const { url } = await redis();
  const client = await redisClient(t);
  const echo = await echoBackend(t);
  const gateway = newGateway();
  const [port] = (await freePorts(1)) as [number];
  const dataplane = await startDataplane(t, url, gateway);
  const config = (path: string): ReturnType<typeof dataplaneConfig> => dataplaneConfig(gateway, {
    listeners: [httpListener(port, { path: { type: 'RegularExpression', value: path } })],
    actions: [action('echo', 'echo')],
    clusters: [echoCluster('echo', [echo])],
  });
  await publish(client, gateway, published(config('/ok/[0-9]+'), 1));
  await waitForVersion(dataplane, 1);
  // A backreference cannot run in linear time: the translator would never publish it, and the
  // dataplane compiles with the same module, so a config carrying one is refused.
  await publish(client, gateway, published(config('/(a)\\1'), 2));
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.equal(dataplane.subscriber.applied.version, 1, 'version 2 was not applied');
  t.match(await oneRequest(port, get('/ok/42')), /^HTTP\/1\.1 200 /, 'version 1 still serves');
});

// Standalone mode and `weir check`: the quickstart folder served in-process (file provider →
// translator → memory bus → in-process dataplane) with echo backends, following edits to the
// files; and the offline linter's output and exit code.
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import type { EndpointSlice } from '../../api-types/gateway-api/index.ts';
import { loadObjects } from '../../operator/provider/file/load.ts';
import { loopbackBackends, startEchoBackends } from '../../operator/standalone/backends.ts';
import { curlExamples } from '../../operator/standalone/curl.ts';
import { startStandalone } from '../../operator/standalone/standalone.ts';
import { freePorts, type TestContext } from '../harness/index.ts';
import { repoRoot } from '../harness/paths.ts';
import { until } from './operator-helpers.ts';

const run = promisify(execFile);
const quickstart = join(repoRoot, 'config/samples/quickstart');

/** The quickstart with its fixed ports replaced by free ones. */
async function quickstartCopy(t: TestContext): Promise<{ dir: string; gatewayPort: number }> {
  const [gatewayPort, ...backendPorts] = (await freePorts(4)) as [number, number, number, number];
  const dir = mkdtempSync(join(tmpdir(), 'weir-quickstart-'));
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }); });
  for (const file of ['00-gateway.yaml', '10-backends.yaml', '20-routes.yaml']) {
    let text = readFileSync(join(quickstart, file), 'utf8').replace('port: 8080', `port: ${gatewayPort}`);
    ['9101', '9102', '9103'].forEach((port, i) => { text = text.replaceAll(port, String(backendPorts[i])); });
    writeFileSync(join(dir, file), text);
  }
  return { dir, gatewayPort };
}

async function get(port: number, host: string, path = '/', headers: Record<string, string> = {}): Promise<{ status: number; body: string; location: string | null }> {
  // fetch() forbids setting Host; node:http does not.
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host, ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => {
        resolve({ status: res.statusCode ?? 0, body, location: res.headers.location ?? null });
      });
    });
    req.on('error', reject).end();
  });
}

t.test('the quickstart serves path and header matches, a weighted split and a redirect, and follows edits', async (t) => {
  const { dir, gatewayPort } = await quickstartCopy(t);
  const loaded = await loadObjects([dir]);
  const servers = await startEchoBackends(loopbackBackends((loaded.objects.get('EndpointSlice') ?? []) as unknown as EndpointSlice[]), () => undefined);
  t.teardown(async () => { await Promise.all(servers.map((server) => server.close())); });
  t.equal(servers.length, 3);
  let printed = '';
  const standalone = await startStandalone({ paths: [dir], print: (text) => { printed += text; } });
  t.teardown(() => standalone.stop());

  t.match(printed, /Gateway default\/demo {2}Accepted=True {2}Programmed=True/);
  t.match(printed, /HTTPRoute default\/shop\n {2}on Gateway default\/demo {2}Accepted=True {2}ResolvedRefs=True/);
  const examples = (standalone.reconciler.lastResult?.configs ?? []).flatMap((output) => curlExamples(output.config, '127.0.0.1'));
  t.ok(examples.includes(`curl -si -H 'Host: shop.example.com' -H 'x-canary: on' http://127.0.0.1:${gatewayPort}/`), examples.join('\n'));

  const service = (body: string): string => (JSON.parse(body) as { service: string }).service;
  t.equal(service((await get(gatewayPort, 'shop.example.com', '/api/items')).body), 'api', 'path prefix match');
  t.equal(service((await get(gatewayPort, 'shop.example.com', '/', { 'x-canary': 'on' })).body), 'shop-v2', 'header match');
  const counts = new Map<string, number>();
  for (let i = 0; i < 200; i++) {
    const name = service((await get(gatewayPort, 'shop.example.com', '/')).body);
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  const v2 = counts.get('shop-v2') ?? 0;
  t.ok(v2 > 5 && v2 < 45, `weighted split 90/10 gave ${JSON.stringify(Object.fromEntries(counts))}`);
  const redirect = await get(gatewayPort, 'old.example.com', '/x');
  t.equal(redirect.status, 301);
  t.equal(redirect.location, `http://shop.example.com:${gatewayPort}/x`);
  t.equal((await get(gatewayPort, 'nothing.example.com', '/')).status, 404);

  // Edit a file: the canary takes all traffic.
  const routes = join(dir, '20-routes.yaml');
  writeFileSync(routes, readFileSync(routes, 'utf8').replace('{ name: shop-v1, port: 80, weight: 90 }', '{ name: shop-v1, port: 80, weight: 0 }'));
  await until('the edit to apply', async () => service((await get(gatewayPort, 'shop.example.com', '/')).body) === 'shop-v2' &&
    service((await get(gatewayPort, 'shop.example.com', '/')).body) === 'shop-v2' && service((await get(gatewayPort, 'shop.example.com', '/')).body) === 'shop-v2');
  // Break a reference: the status says so.
  writeFileSync(routes, readFileSync(routes, 'utf8').replace('backendRefs: [{ name: api, port: 80 }]', 'backendRefs: [{ name: missing, port: 80 }]'));
  await until('the broken reference to show', () => /ResolvedRefs BackendNotFound/.test(printed));
  t.pass('statuses follow the files');
});

t.test('a Gateway port still taken is retried by the same follower as in pods, and acks carry the digest', async (t) => {
  const { dir, gatewayPort } = await quickstartCopy(t);
  const blocker = createServer();
  blocker.listen(gatewayPort, '127.0.0.1');
  await once(blocker, 'listening');
  let printed = '';
  const standalone = await startStandalone({ paths: [dir], print: (text) => { printed += text; } });
  t.teardown(() => standalone.stop());
  await until('the taken port reported', () => /Programmed=False/.test(printed) && /cannot apply .* yet and retries: .*EADDRINUSE/.test(printed));
  t.match(printed, /configuration version 1 of epoch 1 \(sha256:[0-9a-f]{64}\)/, 'the message names the revision and the digest');
  blocker.close();
  await until('applied once the port is free', () => /Gateway default\/demo {2}Accepted=True {2}Programmed=True/.test(printed));
  t.equal((await get(gatewayPort, 'nothing.example.com', '/')).status, 404, 'served');
});

t.test('weir check prints statuses and fails on problems', async (t) => {
  const cli = join(repoRoot, 'operator/cli/weir.ts');
  const ok = await run(process.execPath, [cli, 'check', '-f', quickstart]);
  t.match(ok.stdout, 'Gateway default/demo  Accepted=True  Programmed=True');
  t.match(ok.stdout, /config default\/demo: 1 listeners, \d+ routing rules, 3 backends/);

  const dir = mkdtempSync(join(tmpdir(), 'weir-check-'));
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }); });
  writeFileSync(join(dir, 'gw.yaml'), readFileSync(join(quickstart, '00-gateway.yaml'), 'utf8'));
  writeFileSync(join(dir, 'route.yaml'), `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: broken }
spec:
  parentRefs: [{ name: demo }]
  rules: [{ backendRefs: [{ name: nowhere, port: 80 }] }]
`);
  const failed = await run(process.execPath, [cli, 'check', '-f', dir]).then(
    () => undefined,
    (error: unknown) => error as { code: number; stdout: string },
  );
  t.equal(failed?.code, 1);
  t.match(failed?.stdout, /HTTPRoute default\/broken\n {2}on Gateway default\/demo {2}Accepted=True {2}✗ ResolvedRefs=False\n {4}ResolvedRefs BackendNotFound: /);

  const version = await run(process.execPath, [cli, 'version']);
  t.match(version.stdout, /^weir \d+\.\d+\.\d+/);
});

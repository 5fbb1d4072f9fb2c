// The operator's watches on the pinned reconciliation SDK (@dot-i/k8s-operator 1.3.9).
//
// 1. What the SDK's own watch loop does, which sdk-watcher.ts keeps (no resourceVersion, a
//    restart 200 ms after the server ends a watch, events as ResourceEvents) and what it replaces
//    (process.exit(1) on a failed watch). If a new SDK version changes any of it, this fails and
//    the override must be looked at again.
// 2. The provider on SdkWatcher against the real kube-apiserver: events, a server-side end
//    restarted and relisted, a cut connection restarted without ending the process and the gap
//    made whole, and a stop after which nothing reconnects.
import { KubeConfig } from '@kubernetes/client-node';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { KINDS, type ResourceKind } from '../../operator/kinds.ts';
import { operatorKubeClients } from '../../operator/provider/kubernetes/clients.ts';
import { KubernetesProvider } from '../../operator/provider/kubernetes/provider.ts';
import { ObjectStore } from '../../operator/store/object-store.ts';
import { kube, poll, testNamespace } from '../harness/index.ts';
import { makeTempDir } from '../harness/tempdir.ts';

const repoRoot = join(import.meta.dirname, '..', '..');

/** A child process running the bare SDK (no Weir code) on `configmaps`, printing events and log lines as JSON. */
const SDK_PROBE = `
import sdk from '@dot-i/k8s-operator';
const print = (value) => process.stdout.write(JSON.stringify(value) + '\\n');
class Probe extends sdk.default {
  async init() {
    await this.watchResource('', 'v1', 'configmaps', async (event) => { print({ event: event.type, name: event.meta.name, id: event.meta.id }); });
  }
}
const log = (level) => (message) => print({ level, message });
await new Probe({ debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') }).start();
`;

interface WatchRequest {
  readonly url: URL;
  readonly at: number;
}

function configMapEvent(type: string, name: string, resourceVersion: string): string {
  return `${JSON.stringify({ type, object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'probe', resourceVersion } } })}\n`;
}

t.test('the pinned SDK: watches without resourceVersion, restarts 200 ms after an end, exits the process on a failure', async (t) => {
  const requests: WatchRequest[] = [];
  const ended: number[] = [];
  const server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    requests.push({ url: new URL(req.url ?? '/', 'http://fake'), at: Date.now() });
    if (requests.length === 1) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(configMapEvent('ADDED', 'first', '10'));
      // The server ends the watch, as kube-apiserver does after its request timeout.
      setTimeout(() => {
        ended.push(Date.now());
        res.end();
      }, 100);
    } else if (requests.length === 2) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(configMapEvent('ADDED', 'first', '10'));
      res.write(configMapEvent('MODIFIED', 'first', '11'));
      setTimeout(() => res.end(), 100);
    } else {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"kind":"Status","code":500}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => { server.close(() => { resolve(); }); }));
  const port = (server.address() as { port: number }).port;

  const dir = makeTempDir('sdk-probe');
  t.teardown(() => dir.remove());
  const kubeconfig = join(dir.path, 'kubeconfig');
  writeFileSync(kubeconfig, JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'fake', cluster: { server: `http://127.0.0.1:${port}` } }],
    users: [{ name: 'fake', user: {} }],
    contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake' } }],
    'current-context': 'fake',
  }));
  const child = spawn(process.execPath, ['--input-type=module', '-e', SDK_PROBE], { cwd: repoRoot, env: { ...process.env, KUBECONFIG: kubeconfig }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearTimeout(timer);

  t.equal(code, 1, `the SDK ends the process when a watch fails (stderr: ${stderr.trim()})`);
  t.equal(requests.length, 3, 'one watch, one restart after the end, one failing restart');
  for (const request of requests) {
    t.equal(request.url.pathname, '/api/v1/configmaps');
    t.equal(request.url.searchParams.get('watch'), 'true');
    t.equal(request.url.searchParams.get('resourceVersion'), null, 'no resourceVersion: every (re)start replays the current objects');
  }
  const gap = (requests[1]?.at ?? 0) - (ended[0] ?? 0);
  t.ok(gap >= 150 && gap < 5_000, `restarted ${gap} ms after the server ended the watch (the SDK waits 200 ms)`);
  const lines = stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, string>);
  t.same(lines.filter((line) => line.event !== undefined), [
    { event: 'ADDED', name: 'first', id: 'configmaps.v1' },
    { event: 'ADDED', name: 'first', id: 'configmaps.v1' },
    { event: 'MODIFIED', name: 'first', id: 'configmaps.v1' },
  ], 'events in order as ResourceEvents, the restart replaying ADDED');
  t.ok(lines.some((line) => line.level === 'error' && line.message?.startsWith('watch on resource configmaps.v1 failed')), 'the failure is logged before the exit');
});

/** A TCP relay to the API server that the test can cut (and keep closed) at will. */
class Relay {
  readonly #target: { host: string; port: number };
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  port = 0;
  accepted = 0;

  constructor(target: { host: string; port: number }) {
    this.#target = target;
  }

  async open(): Promise<void> {
    const server = createServer((client) => {
      this.accepted++;
      const upstream = connect(this.#target.port, this.#target.host);
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('close', () => this.#sockets.delete(socket));
        socket.on('error', () => { client.destroy(); upstream.destroy(); });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    this.#server = server;
  }

  /** Stops accepting and cuts every open connection. */
  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    if (server !== undefined) await new Promise<void>((resolve) => { server.close(() => { resolve(); }); });
  }
}

function relayedKubeConfig(admin: KubeConfig, relayPort: number): KubeConfig {
  const relayed = new KubeConfig();
  relayed.loadFromOptions({
    clusters: admin.clusters.map((cluster) => ({ ...cluster, server: `https://127.0.0.1:${relayPort}` })),
    users: admin.users,
    contexts: admin.contexts,
    currentContext: admin.currentContext,
  });
  return relayed;
}

t.test('the provider on SdkWatcher: a server-side end and a cut connection are restarted and relisted, stop is final', async (t) => {
  const k = await kube();
  const namespace = await testNamespace(t, 'op-sdk-watch');
  const server = new URL(k.kubeConfig.getCurrentCluster()?.server ?? '');
  const relay = new Relay({ host: server.hostname, port: Number(server.port) });
  await relay.open();
  t.teardown(() => relay.cut());
  const relayed = relayedKubeConfig(k.kubeConfig, relay.port);
  const dir = makeTempDir('sdk-watch');
  t.teardown(() => dir.remove());
  const kubeconfigPath = join(dir.path, 'kubeconfig');
  writeFileSync(kubeconfigPath, relayed.exportConfig());

  const configMap: ResourceKind = { kind: 'ConfigMap', ...KINDS.ConfigMap };
  const store = new ObjectStore();
  const warnings: string[] = [];
  const provider = new KubernetesProvider({
    clients: operatorKubeClients(relayed),
    store,
    log: { debug: () => undefined, info: () => undefined, warn: (message) => warnings.push(message), error: (message) => warnings.push(message) },
    kinds: [configMap],
    watch: { kubeconfigPath, watchTimeoutSeconds: 3 },
  });
  t.teardown(() => { provider.stop(); });
  const names = (): string[] =>
    store.list('ConfigMap').filter((object) => object.metadata?.namespace === namespace && object.metadata.name !== 'kube-root-ca.crt').map((object) => object.metadata?.name ?? '').sort();
  const kubectl = async (...args: string[]): Promise<void> => {
    const result = await k.kubectl(['-n', namespace, ...args]);
    t.equal(result.exitCode, 0, `kubectl ${args.join(' ')} ${result.stderr}`);
  };

  await kubectl('create', 'configmap', 'before', '--from-literal=v=1');
  await provider.start();
  t.same(names(), ['before'], 'listed at start');
  await kubectl('patch', 'configmap', 'before', '--type=merge', '-p', '{"data":{"v":"2"}}');
  await poll(() => ((store.get('ConfigMap', `${namespace}/before`) as { data?: { v?: string } } | undefined)?.data?.v === '2' ? true : undefined), { what: 'the watched update', timeoutMs: 20_000 });

  // timeoutSeconds: 3 makes the server end each watch: a normal end, restarted and relisted.
  await poll(() => (provider.watchRestarts >= 1 ? true : undefined), { what: 'a restart after the server ended the watch', timeoutMs: 20_000 });
  t.equal(provider.watchErrors, 0, 'a server-side end is not a failure');
  await kubectl('create', 'configmap', 'after-end');
  await poll(() => (names().includes('after-end') ? true : undefined), { what: 'events on the restarted watch', timeoutMs: 20_000 });

  await relay.cut();
  await poll(() => (provider.watchErrors > 0 ? true : undefined), { what: 'the cut reported as a failure', timeoutMs: 20_000 });
  const restartsBeforeGap = provider.watchRestarts;
  await kubectl('delete', 'configmap', 'before');
  await kubectl('create', 'configmap', 'during-the-gap');
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.ok(names().includes('before') && !names().includes('during-the-gap'), 'nothing arrives while the connection is down');
  await relay.open();
  await poll(() => (names().join(',') === 'after-end,during-the-gap' ? true : undefined), { what: 'the gap made whole (the delete from the relist)', timeoutMs: 30_000 });
  t.ok(provider.watchRestarts > restartsBeforeGap, 'the reconnect counted as a restart');
  t.ok(warnings.some((message) => message.startsWith('watch on resource configmaps.v1 failed')), 'the failure was logged');

  provider.stop();
  const accepted = relay.accepted;
  await new Promise((resolve) => setTimeout(resolve, 4_000));
  t.equal(relay.accepted, accepted, 'after stop nothing reconnects (not even when the server ends the last watch)');
});

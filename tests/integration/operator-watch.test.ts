// The operator's watches (operator/provider/kubernetes/sdk-watcher.ts) against the harness's
// real kube-apiserver, through the pinned SDK's lifecycle (`start()` → `init()` →
// `watchResource`). The connection is cut and kept down while objects change; the watch must
// not end the process, must start again, and must deliver what happened during the gap (a
// delete and a create). This fails if the pinned SDK stops calling the overridden
// `watchResource` from `start()`, or if the list-watch under it stops resuming.
import { connect, createServer, type Server, type Socket } from 'node:net';
import t from 'tap';
import { KubeConfig } from '@kubernetes/client-node';
import { KINDS, type ResourceKind } from '../../operator/kinds.ts';
import { ProviderAdmission } from '../../operator/provider/admission.ts';
import { operatorKubeClients } from '../../operator/provider/kubernetes/clients.ts';
import { SdkWatcher, watchId } from '../../operator/provider/kubernetes/sdk-watcher.ts';
import { ObjectStore } from '../../operator/store/object-store.ts';
import { kube, testNamespace } from '../harness/index.ts';
import { poll } from '../harness/wait.ts';

/** A TCP relay to the API server that the test can cut (and keep closed) at will. */
class Relay {
  readonly #target: { host: string; port: number };
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  port = 0;

  constructor(target: { host: string; port: number }) {
    this.#target = target;
  }

  async open(): Promise<void> {
    const server = createServer((client) => {
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

function relayedKubeConfig(adminKubeConfig: KubeConfig, relayPort: number): KubeConfig {
  const relayed = new KubeConfig();
  relayed.loadFromOptions({
    clusters: adminKubeConfig.clusters.map((cluster) => ({ ...cluster, server: `https://127.0.0.1:${relayPort}` })),
    users: adminKubeConfig.users,
    contexts: adminKubeConfig.contexts,
    currentContext: adminKubeConfig.currentContext,
  });
  return relayed;
}

const names = (store: ObjectStore, namespace: string): string[] =>
  store.list('ConfigMap').filter((object) => object.metadata?.namespace === namespace).map((object) => object.metadata?.name ?? '').sort();

t.test('a watch cut while objects change starts again and delivers the gap, without ending the process', async (t) => {
  const k = await kube();
  const namespace = await testNamespace(t, 'op-watch');
  const server = new URL(k.kubeConfig.getCurrentCluster()?.server ?? '');
  t.equal(server.hostname, '127.0.0.1', 'the harness API server is on loopback');
  const relay = new Relay({ host: server.hostname, port: Number(server.port) });
  await relay.open();
  t.teardown(() => relay.cut());

  const configMap: ResourceKind = { kind: 'ConfigMap', ...KINDS.ConfigMap };
  const store = new ObjectStore();
  const warnings: string[] = [];
  const failed: string[] = [];
  const watcher = new SdkWatcher({
    clients: operatorKubeClients(relayedKubeConfig(k.kubeConfig, relay.port)),
    store,
    admission: new ProviderAdmission((message) => warnings.push(message)),
    kinds: [configMap],
    log: { debug: () => undefined, info: () => undefined, warn: (message) => warnings.push(message), error: (message) => warnings.push(message) },
    onWatchError: (id) => failed.push(id),
    retryDelayMs: 100,
  });
  t.teardown(() => { watcher.stop(); });

  const kubectl = async (...args: string[]): Promise<void> => {
    const result = await k.kubectl(['-n', namespace, ...args]);
    t.equal(result.exitCode, 0, `kubectl ${args.join(' ')} ${result.stderr}`);
  };
  await kubectl('create', 'configmap', 'before', '--from-literal=v=1');
  await watcher.start(); // the SDK's start(): runs init(), which calls watchResource per kind
  await poll(() => (names(store, namespace).includes('before') ? true : undefined), { what: 'the listed object', timeoutMs: 20_000 });

  await kubectl('patch', 'configmap', 'before', '--type=merge', '-p', '{"data":{"v":"2"}}');
  await poll(() => ((store.get('ConfigMap', `${namespace}/before`) as { data?: { v?: string } } | undefined)?.data?.v === '2' ? true : undefined), {
    what: 'the watched update',
    timeoutMs: 20_000,
  });

  await relay.cut();
  await poll(() => (failed.length > 0 ? true : undefined), { what: 'the watch to report the cut', timeoutMs: 20_000 });
  await kubectl('delete', 'configmap', 'before');
  await kubectl('create', 'configmap', 'during-the-gap');
  await new Promise((resolve) => setTimeout(resolve, 500)); // restarts fail while the relay is closed
  t.same(names(store, namespace), ['before'], 'nothing arrives while the connection is down');
  await relay.open();

  await poll(() => (names(store, namespace).join(',') === 'during-the-gap' ? true : undefined), { what: 'the gap to be delivered', timeoutMs: 30_000 });
  t.same(names(store, namespace), ['during-the-gap'], 'the delete and the create made during the cut arrived');
  t.ok(failed.every((id) => id === watchId(configMap)), `failures reported for ${watchId(configMap)}`);
  t.ok(warnings.some((message) => message.includes('starting it again')), 'the failure was logged');

  await kubectl('create', 'configmap', 'after');
  await poll(() => (names(store, namespace).includes('after') ? true : undefined), { what: 'events after the restart', timeoutMs: 20_000 });
});

// What the operator relies on from @dot-i/k8s-operator without a cluster: the exact pinned
// version is the one installed, SdkWatcher is the SDK's Operator, and status-only changes are
// told apart. The watch behaviour itself is tested against a real API server in
// tests/integration/operator-watch.test.ts.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import t from 'tap';
import sdk from '@dot-i/k8s-operator';
import { RESOURCE_KINDS } from '../../operator/kinds.ts';
import { ProviderAdmission } from '../../operator/provider/admission.ts';
import { operatorKubeClients } from '../../operator/provider/kubernetes/clients.ts';
import { SdkWatcher, onlyStatusChanged, watchId } from '../../operator/provider/kubernetes/sdk-watcher.ts';
import { ObjectStore } from '../../operator/store/object-store.ts';
import { KubeConfig } from '@kubernetes/client-node';

const root = join(import.meta.dirname, '..', '..');

t.test('the SDK is pinned to one exact version, and that version is installed', (t) => {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const pinned = manifest.dependencies['@dot-i/k8s-operator'];
  t.match(pinned, /^\d+\.\d+\.\d+$/, 'no range: the watch override depends on this exact release');
  const installed = (createRequire(join(root, 'package.json'))('@dot-i/k8s-operator/package.json') as { version: string }).version;
  t.equal(installed, pinned);
  t.end();
});

t.test("SdkWatcher is the SDK's Operator and names watches as the SDK does", (t) => {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({ clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }], users: [{ name: 'u' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
  const watcher = new SdkWatcher({
    clients: operatorKubeClients(kubeConfig),
    store: new ObjectStore(),
    admission: new ProviderAdmission(() => undefined),
    kinds: RESOURCE_KINDS,
    log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    onWatchError: () => undefined,
  });
  t.ok(watcher instanceof sdk.default);
  watcher.stop();
  const gateways = RESOURCE_KINDS.find((resource) => resource.kind === 'Gateway');
  const namespaces = RESOURCE_KINDS.find((resource) => resource.kind === 'Namespace');
  t.equal(gateways && watchId(gateways), 'gateways.gateway.networking.k8s.io/v1');
  t.equal(namespaces && watchId(namespaces), 'namespaces.v1');
  t.end();
});

t.test('status-only changes are told apart from spec and metadata changes', (t) => {
  const base = { metadata: { name: 'a', generation: 1, resourceVersion: '1', labels: { x: '1' } } };
  const variant = (extra: Record<string, unknown>): typeof base => ({ metadata: { ...base.metadata, resourceVersion: '2', ...extra } });
  t.ok(onlyStatusChanged(base, variant({})));
  t.notOk(onlyStatusChanged(base, variant({ generation: 2 })));
  t.notOk(onlyStatusChanged(base, variant({ labels: { x: '2' } })));
  t.notOk(onlyStatusChanged(undefined, base));
  t.end();
});

// The compensation layer around @dot-i/k8s-operator: its watch-error path (log, then
// process.exit(1)) must not end the operator, and its restart log line must trigger a relist.
import t from 'tap';
import type { OperatorLogger } from '@dot-i/k8s-operator';
import { SdkWatcher, onlyStatusChanged } from '../../operator/provider/kubernetes/sdk-watcher.ts';
import { RESOURCE_KINDS } from '../../operator/kinds.ts';
import { ProviderAdmission } from '../../operator/provider/admission.ts';
import { ObjectStore } from '../../operator/store/object-store.ts';

function watcher(): { logger: OperatorLogger; restarts: string[]; errors: string[]; warnings: string[] } {
  const restarts: string[] = [];
  const errors: string[] = [];
  const warnings: string[] = [];
  const instance = new SdkWatcher({
    store: new ObjectStore(),
    admission: new ProviderAdmission((message) => warnings.push(message)),
    kinds: RESOURCE_KINDS,
    log: { debug: () => undefined, info: () => undefined, warn: (message) => warnings.push(message), error: () => undefined },
    onRestart: (kind) => restarts.push(kind),
    onWatchError: (id) => errors.push(id),
  });
  return { logger: (instance as unknown as { logger: OperatorLogger }).logger, restarts, errors, warnings };
}

t.test("the SDK's exit after a watch error is swallowed, once", (t) => {
  const { logger, errors, warnings } = watcher();
  // eslint-disable-next-line @typescript-eslint/unbound-method -- compared, never called
  const exit = process.exit;
  // What the SDK does in its watch `done(err)` callback:
  logger.error('watch on resource gateways.gateway.networking.k8s.io/v1 failed: {"message":"aborted"}');
  process.exit(1);
  t.pass('the process is still running');
  // eslint-disable-next-line @typescript-eslint/unbound-method -- compared, never called
  t.equal(process.exit, exit, 'process.exit is restored');
  t.same(errors, ['gateways.gateway.networking.k8s.io/v1']);
  t.match(warnings[0], /restarting it/);
  logger.error('watch on resource gateways.gateway.networking.k8s.io/v1 failed: again');
  process.exit(1);
  t.equal(warnings.length, 1, 'repeated failures are not logged every time');
  t.end();
});

t.test('the restart log line becomes a relist of that kind', (t) => {
  const { logger, restarts } = watcher();
  logger.debug('restarting watch on resource httproutes.gateway.networking.k8s.io/v1');
  logger.debug('restarting watch on resource namespaces.v1');
  logger.debug('something else');
  t.same(restarts, ['HTTPRoute', 'Namespace']);
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

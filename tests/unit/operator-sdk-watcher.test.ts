// The store side of the watches: which changes are status-only. (The watch loop itself is tested
// against the real API server in tests/integration/operator-sdk-watch.test.ts.)
import t from 'tap';
import { onlyStatusChanged } from '../../operator/provider/kubernetes/sdk-watcher.ts';

t.test('status-only changes are told apart from spec and metadata changes', (t) => {
  const base = { metadata: { name: 'a', generation: 1, resourceVersion: '1', labels: { x: '1' } } };
  const variant = (extra: Record<string, unknown>): typeof base => ({ metadata: { ...base.metadata, resourceVersion: '2', ...extra } });
  t.ok(onlyStatusChanged(base, variant({})));
  t.notOk(onlyStatusChanged(base, variant({ generation: 2 })));
  t.notOk(onlyStatusChanged(base, variant({ labels: { x: '2' } })));
  t.notOk(onlyStatusChanged(undefined, base));
  t.end();
});

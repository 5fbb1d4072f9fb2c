import t from 'tap';
import { Coalescer } from '../../operator/store/coalescer.ts';
import { ObjectStore } from '../../operator/store/object-store.ts';

const route = (name: string, resourceVersion: string, namespace = 'ns') => ({ metadata: { name, namespace, resourceVersion } });

t.test('snapshots are immutable and rebuilt only after a change', (t) => {
  const store = new ObjectStore();
  store.upsert('HTTPRoute', route('a', '1'));
  const first = store.snapshot();
  t.equal(store.snapshot(), first, 'same object while nothing changed');
  t.equal(first.httpRoutes.length, 1);
  t.ok(Object.isFrozen(first) && Object.isFrozen(first.httpRoutes));
  t.notOk(store.upsert('HTTPRoute', route('a', '1')), 'same resourceVersion is no change');
  t.equal(store.snapshot(), first);
  store.upsert('HTTPRoute', route('b', '2'));
  t.not(store.snapshot(), first);
  t.equal(first.httpRoutes.length, 1, 'an old snapshot keeps its content');
  t.equal(store.snapshot().gateways, first.gateways, 'unchanged kinds are shared');
  t.end();
});

t.test('a status-only update is stored but does not invalidate the snapshot', (t) => {
  const store = new ObjectStore();
  store.upsert('Gateway', route('g', '1'));
  const snapshot = store.snapshot();
  let changes = 0;
  store.onChange(() => changes++);
  store.upsert('Gateway', route('g', '2'), { statusOnly: true });
  t.equal(store.get('Gateway', 'ns/g')?.metadata?.resourceVersion, '2');
  t.equal(store.snapshot(), snapshot);
  t.equal(changes, 0);
  t.end();
});

t.test('relist reconcile removes what was deleted while no watch ran, keeps newer watch events', (t) => {
  const store = new ObjectStore();
  store.upsert('HTTPRoute', route('stale', '1'));
  store.upsert('HTTPRoute', route('kept', '1'));
  const seq = store.seq; // the LIST starts here
  store.upsert('HTTPRoute', route('created-during-list', '5'));
  store.delete('HTTPRoute', route('kept', '1'));
  store.upsert('HTTPRoute', route('kept', '1')); // recreated after the list started
  store.delete('HTTPRoute', route('deleted-during-list', '1'));
  // The LIST result, as of when it started: stale is gone, kept at v1, deleted-during-list still there.
  store.reconcileKind('HTTPRoute', [route('kept', '1'), route('deleted-during-list', '1'), route('only-in-list', '3')], seq);
  t.same(store.list('HTTPRoute').map((object) => object.metadata?.name).sort(), ['created-during-list', 'kept', 'only-in-list']);
  t.end();
});

t.test('a tombstone newer than the LIST keeps a deleted object deleted', (t) => {
  const store = new ObjectStore();
  store.upsert('Service', route('svc', '1'));
  const seq = store.seq;
  store.delete('Service', route('svc', '1'));
  store.reconcileKind('Service', [route('svc', '1')], seq);
  t.same(store.list('Service'), []);
  // A later LIST without it drops the tombstone; one with it (recreated) adds it back.
  store.reconcileKind('Service', [route('svc', '7')], store.seq);
  t.same(store.list('Service').map((object) => object.metadata?.resourceVersion), ['7']);
  t.end();
});

t.test('cluster-scoped keys have no namespace', (t) => {
  const store = new ObjectStore();
  store.upsert('GatewayClass', { metadata: { name: 'weir', resourceVersion: '1' } });
  t.ok(store.get('GatewayClass', 'weir'));
  t.end();
});

t.test('the coalescer turns a burst into one run and bounds the delay', async (t) => {
  let runs = 0;
  const coalescer = new Coalescer(async () => { runs++; await Promise.resolve(); }, { delayMs: 5, maxDelayMs: 30 });
  const started = performance.now();
  for (let i = 0; i < 100; i++) coalescer.trigger();
  await coalescer.idle();
  t.equal(runs, 1);
  // Triggers every 2 ms for 100 ms: the max delay forces runs although it never goes quiet.
  runs = 0;
  const timer = setInterval(() => { coalescer.trigger(); }, 2);
  await new Promise((resolve) => setTimeout(resolve, 100));
  clearInterval(timer);
  await coalescer.idle();
  t.ok(runs >= 2, `ran ${runs} times during a continuous burst`);
  t.ok(performance.now() - started < 2000);
});

t.test('a trigger during a run schedules exactly one more run', async (t) => {
  let runs = 0;
  let release: (() => void) | undefined;
  const coalescer = new Coalescer(async () => {
    runs++;
    if (runs === 1) await new Promise<void>((resolve) => { release = resolve; });
  }, { delayMs: 1 });
  coalescer.trigger();
  await new Promise((resolve) => setTimeout(resolve, 20));
  coalescer.trigger();
  coalescer.trigger();
  release?.();
  await coalescer.idle();
  t.equal(runs, 2);
});

import t from 'tap';
import { WeightedPicker } from '../../dataplane/balancer.ts';
import { EndpointSet, UpstreamRegistry } from '../../dataplane/upstreams.ts';

t.test('smooth weighted round robin gives exact proportions and never picks weight 0', (t) => {
  const picker = new WeightedPicker([
    { item: 'a', weight: 70 },
    { item: 'b', weight: 30 },
    { item: 'zero', weight: 0 },
  ]);
  const counts = new Map<string, number>();
  for (let i = 0; i < 1_000; i++) {
    const item = picker.pick()!;
    counts.set(item, (counts.get(item) ?? 0) + 1);
  }
  t.equal(counts.get('a'), 700);
  t.equal(counts.get('b'), 300);
  t.equal(counts.get('zero'), undefined);
  t.end();
});

t.test('picks are interleaved, not bursts', (t) => {
  const picker = new WeightedPicker([{ item: 'a', weight: 1 }, { item: 'b', weight: 1 }]);
  t.same([picker.pick(), picker.pick(), picker.pick(), picker.pick()], ['a', 'b', 'a', 'b']);
  t.end();
});

t.test('no positive weight means no pick', (t) => {
  t.equal(new WeightedPicker([{ item: 'a', weight: 0 }]).pick(), undefined);
  t.equal(new WeightedPicker<string>([]).pick(), undefined);
  t.end();
});

const CAPS = { maxConnections: 10, maxPending: 10 };

t.test('endpoints: round robin over ready ones, skipping ejected and already-tried endpoints', (t) => {
  const registry = new UpstreamRegistry({ ejectMs: 1_000 });
  t.teardown(() => registry.closeAll());
  const [a, b, c] = [registry.acquire('http1', '127.0.0.1', 1, CAPS), registry.acquire('http1', '127.0.0.1', 2, CAPS), registry.acquire('http1', '127.0.0.1', 3, CAPS)];
  const set = new EndpointSet([a, b], [c]);
  t.same([set.pick(undefined, 0), set.pick(undefined, 0), set.pick(undefined, 0)], [a, b, a]);
  b.eject(0);
  t.same([set.pick(undefined, 10), set.pick(undefined, 10)], [a, a], 'an ejected endpoint is skipped');
  t.equal(set.pick([a], 10), c, 'when ready endpoints are tried or ejected, not-ready ones are used');
  t.equal(set.pick([a, c], 10), b, 'an ejected endpoint is better than none');
  t.equal(set.pick([a, b, c], 10), undefined);
  t.equal(set.pick(undefined, 2_000), a);
  t.equal(set.pick(undefined, 2_000), b, 'ejection ends after ejectMs');
  t.equal(registry.acquire('http1', '127.0.0.1', 1, CAPS), a, 'the registry reuses pools per endpoint');
  t.end();
});

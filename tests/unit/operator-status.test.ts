import t from 'tap';
import type { ObjectStatus } from '../../operator/translator/index.ts';
import { programmedVerdict, type PodAck } from '../../operator/publisher/acks.ts';
import { canonicalJson, configDigest } from '../../operator/publisher/digest.ts';
import { desiredStatus, sameStatus } from '../../operator/status/desired.ts';
import { formatStatuses } from '../../operator/status/format.ts';
import { applyProgrammed } from '../../operator/status/programmed.ts';

const ME = 'weir.dev/gateway-controller';
const cond = (type: string, ok: boolean, reason: string, observedGeneration = 1) =>
  ({ type, status: ok ? 'True' : 'False', reason, message: `${type} ${reason}`, observedGeneration }) as const;

const gatewayStatus = (programmed: boolean): ObjectStatus => ({
  kind: 'Gateway',
  namespace: 'ns',
  name: 'gw',
  generation: 1,
  status: {
    conditions: [cond('Accepted', true, 'Accepted') as never, cond('Programmed', programmed, programmed ? 'Programmed' : 'Invalid') as never],
    listeners: [{ name: 'http', supportedKinds: [], attachedRoutes: 0, conditions: [cond('Programmed', programmed, 'Programmed') as never] }],
    attachedListenerSets: 0,
  },
});

t.test('lastTransitionTime is kept while a condition keeps its status and set when it flips', (t) => {
  const first = desiredStatus(gatewayStatus(true), undefined, { now: 'T1', controllerName: ME });
  const again = desiredStatus(gatewayStatus(true), first, { now: 'T2', controllerName: ME });
  t.ok(sameStatus(first, again));
  t.same((again.conditions as { lastTransitionTime: string }[]).map((c) => c.lastTransitionTime), ['T1', 'T1']);
  const flipped = desiredStatus(gatewayStatus(false), again, { now: 'T3', controllerName: ME });
  t.notOk(sameStatus(flipped, again));
  t.same((flipped.conditions as { lastTransitionTime: string }[]).map((c) => c.lastTransitionTime), ['T1', 'T3']);
  t.end();
});

t.test('route parents written by other controllers are kept; ours replaced', (t) => {
  const parentRef = { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'ns', name: 'gw' };
  const current = {
    parents: [
      { parentRef: { name: 'other' }, controllerName: 'example.com/other', conditions: [] },
      { parentRef, controllerName: ME, conditions: [{ ...cond('Accepted', true, 'Accepted'), lastTransitionTime: 'T0' }] },
    ],
  };
  const computed: ObjectStatus = { kind: 'HTTPRoute', namespace: 'ns', name: 'r', generation: 2, status: { parents: [{ parentRef, controllerName: ME, conditions: [cond('Accepted', true, 'Accepted', 2) as never] }] } };
  const desired = desiredStatus(computed, current, { now: 'T9', controllerName: ME });
  const parents = desired.parents as { controllerName: string; conditions: { observedGeneration: number; lastTransitionTime: string }[] }[];
  t.equal(parents.length, 2);
  t.equal(parents[0]?.controllerName, 'example.com/other');
  t.equal(parents[1]?.conditions[0]?.observedGeneration, 2);
  t.equal(parents[1]?.conditions[0]?.lastTransitionTime, 'T0', 'status unchanged: time kept');
  const detached = desiredStatus({ ...computed, status: { parents: [] } }, current, { now: 'T9', controllerName: ME });
  t.same((detached.parents as unknown[]).length, 1, 'detaching removes only our entry');
  t.end();
});

t.test('Gateway and listener conditions of types Weir never writes are kept unchanged, after ours', (t) => {
  const foreign = { type: 'example.com/Audited', status: 'True', reason: 'Seeded', message: '', observedGeneration: 1, lastTransitionTime: 'T0' };
  const current = {
    conditions: [{ ...cond('Accepted', true, 'Accepted'), lastTransitionTime: 'T0' }, foreign, { ...cond('ResolvedRefs', false, 'Invalid'), lastTransitionTime: 'T0' }],
    listeners: [{ name: 'http', conditions: [foreign, { ...cond('Programmed', true, 'Programmed'), lastTransitionTime: 'T0' }] }],
  };
  const desired = desiredStatus(gatewayStatus(true), current, { now: 'T9', controllerName: ME });
  const types = (desired.conditions as { type: string }[]).map((c) => c.type);
  t.same(types, ['Accepted', 'Programmed', 'example.com/Audited'], 'ours first; a type of ours no longer computed (ResolvedRefs) is dropped');
  t.same((desired.conditions as unknown[])[2], foreign, 'the foreign condition is byte-identical');
  const listener = (desired.listeners as { conditions: { type: string; lastTransitionTime: string }[] }[])[0];
  t.same(listener?.conditions.map((c) => c.type), ['Programmed', 'example.com/Audited']);
  t.equal(listener?.conditions[0]?.lastTransitionTime, 'T0', 'own listener condition keeps its time');
  t.same(listener?.conditions[1], foreign);
  t.ok(sameStatus(desired, desiredStatus(gatewayStatus(true), desired, { now: 'T10', controllerName: ME })), 'stable: no rewrite loop');
  t.end();
});

t.test('Programmed needs a pod that applied the published version', (t) => {
  const ack = (appliedVersion: number, extra: Partial<PodAck> = {}): PodAck => ({ pod: 'p', appliedVersion, appliedDigest: '', at: 0, ...extra });
  t.match(programmedVerdict(3, []), { programmed: false, message: /no dataplane pod has reported/ });
  t.match(programmedVerdict(3, [ack(2)]), { programmed: false, message: /version 3/ });
  t.match(programmedVerdict(3, [ack(2, { rejectedVersion: 3, rejectedReason: 'bad' })]), { programmed: false, message: /rejected configuration version 3: bad/ });
  t.match(programmedVerdict(3, [ack(2), ack(3, { pod: 'q' })]), { programmed: true });

  const published = new Map([['ns/gw', { version: 3, digest: 'd' }]]);
  const pending = applyProgrammed([gatewayStatus(true)], { published, acks: new Map() });
  t.same(pending.pending, ['ns/gw']);
  const gw = pending.statuses[0];
  t.ok(gw?.kind === 'Gateway' && gw.status.conditions.some((c) => c.type === 'Programmed' && c.status === 'False' && c.reason === 'Pending'));
  t.ok(gw?.kind === 'Gateway' && gw.status.listeners[0]?.conditions.every((c) => c.status === 'False'));
  const done = applyProgrammed([gatewayStatus(true)], { published, acks: new Map([['ns/gw', [ack(3)]]]) });
  t.same(done.pending, []);
  const invalid = applyProgrammed([gatewayStatus(false)], { published, acks: new Map() });
  t.same(invalid.pending, [], 'a Gateway the translator found invalid keeps its own reason');
  t.end();
});

t.test('canonical JSON sorts keys; config digests are sha256 of the JSON', (t) => {
  t.equal(canonicalJson({ b: 1, a: [{ d: 2, c: null }] }), '{"a":[{"c":null,"d":2}],"b":1}');
  t.equal(configDigest({ a: 1, b: [2] }), configDigest({ a: 1, b: [2] }));
  t.not(configDigest({ a: 1 }), configDigest({ a: 2 }));
  t.match(configDigest({}), /^sha256:[0-9a-f]{64}$/);
  t.end();
});

t.test('statuses read like kubectl describe, with problems spelled out', (t) => {
  const text = formatStatuses([gatewayStatus(false)]);
  t.match(text, 'Gateway ns/gw  Accepted=True  ✗ Programmed=False');
  t.match(text, 'Programmed Invalid: Programmed Invalid');
  t.end();
});

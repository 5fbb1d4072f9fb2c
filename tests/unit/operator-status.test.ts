import t from 'tap';
import type { ObjectStatus } from '../../operator/translator/index.ts';
import { serializeConfig } from '../../api-types/config-codec.ts';
import { DATAPLANE_CONFIG_SCHEMA, type DataplaneConfig } from '../../api-types/dataplane-config.ts';
import type { PodAck } from '../../operator/publisher/acks.ts';
import { canonicalJson } from '../../operator/publisher/digest.ts';
import { desiredStatus, sameStatus } from '../../operator/status/desired.ts';
import { formatStatuses } from '../../operator/status/format.ts';
import { applyProgrammed, programmedVerdict } from '../../operator/status/programmed.ts';

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

t.test('Programmed needs a pod that serves the published digest at the published revision', (t) => {
  const ack = (epoch: number, version: number, digest: string, extra: Partial<PodAck> = {}): PodAck =>
    ({ pod: 'p', appliedEpoch: epoch, appliedVersion: version, appliedDigest: digest, at: 0, ...extra });
  const current = { epoch: 7, version: 3, digest: 'sha256:new' };
  t.match(programmedVerdict(undefined, []), { programmed: false, message: /not been published/ });
  t.match(programmedVerdict(current, []), { programmed: false, message: /no dataplane pod has reported/ });
  t.match(programmedVerdict(current, [ack(7, 2, 'sha256:old')]), { programmed: false, message: /apply configuration version 3 of epoch 7 \(sha256:new\); 1 pods serve version 2 of epoch 7 \(sha256:old\)/ });
  // The reported defect: pods hold a higher version of another config; that is not Programmed.
  t.match(programmedVerdict({ epoch: 7, version: 1, digest: 'sha256:new' }, [ack(7, 2, 'sha256:old'), ack(7, 2, 'sha256:old', { pod: 'q' })]), { programmed: false });
  t.match(programmedVerdict(current, [ack(7, 3, 'sha256:other')]), { programmed: false }, 'the right revision with another digest is not it either');
  t.match(programmedVerdict(current, [ack(7, 2, 'sha256:old', { rejectedEpoch: 7, rejectedVersion: 3, rejectedReason: 'bad' })]), { programmed: false, message: /rejected configuration version 3 of epoch 7 \(sha256:new\): bad/ });
  t.match(programmedVerdict(current, [ack(7, 2, 'sha256:old', { rejectedReason: 'listen EADDRINUSE' })]), { programmed: false, message: /cannot apply .* yet and retries: listen EADDRINUSE/ });
  t.match(programmedVerdict(current, [ack(7, 2, 'sha256:old'), ack(7, 3, 'sha256:new', { pod: 'q' })]), { programmed: true, message: /1 of 2 dataplane pods serve/ });
  t.match(programmedVerdict(current, [ack(8, 1, 'sha256:new')]), { programmed: true }, 'the same digest under a newer revision serves it');
  t.match(programmedVerdict(current, [ack(6, 9, 'sha256:new')]), { programmed: false }, 'an older revision does not, even with the same digest');

  const published = new Map([['ns/gw', current]]);
  const none = new Map<string, string>();
  const pending = applyProgrammed([gatewayStatus(true)], { published, unpublished: none, acks: new Map(), confirmed: none });
  t.same(pending.pending, ['ns/gw']);
  const gw = pending.statuses[0];
  t.ok(gw?.kind === 'Gateway' && gw.status.conditions.some((c) => c.type === 'Programmed' && c.status === 'False' && c.reason === 'Pending'));
  t.ok(gw?.kind === 'Gateway' && gw.status.listeners[0]?.conditions.every((c) => c.status === 'False'));
  const done = applyProgrammed([gatewayStatus(true)], { published, unpublished: none, acks: new Map([['ns/gw', [ack(7, 3, 'sha256:new')]]]), confirmed: none });
  t.same(done.pending, []);
  t.same([...done.confirmed], [['ns/gw', 'sha256:new']]);

  // Redis unreachable: a config not published is Pending and says why; acks out of reach keep
  // what was confirmed for the same digest, and nothing else.
  const failed = applyProgrammed([gatewayStatus(true)], { published, unpublished: new Map([['ns/gw', 'Connection is closed.']]), acks: { unreadable: 'Connection is closed.' }, confirmed: done.confirmed });
  t.same(failed.pending, ['ns/gw']);
  t.match(JSON.stringify(failed.statuses[0]), /could not be published \(Connection is closed.\)/);
  const blind = applyProgrammed([gatewayStatus(true)], { published, unpublished: none, acks: { unreadable: 'down' }, confirmed: done.confirmed });
  t.same(blind.pending, [], 'confirmed for this digest before');
  const blindNew = applyProgrammed([gatewayStatus(true)], { published: new Map([['ns/gw', { ...current, version: 4, digest: 'sha256:newer' }]]), unpublished: none, acks: { unreadable: 'down' }, confirmed: done.confirmed });
  t.same(blindNew.pending, ['ns/gw'], 'a digest never confirmed is not assumed');
  t.match(JSON.stringify(blindNew.statuses[0]), /acks could not be read \(down\)/);
  const invalid = applyProgrammed([gatewayStatus(false)], { published, unpublished: none, acks: new Map(), confirmed: none });
  t.same(invalid.pending, [], 'a Gateway the translator found invalid keeps its own reason');
  t.end();
});

t.test('canonical JSON sorts keys; config digests are sha256 of the JSON', (t) => {
  const config = (hops: number): DataplaneConfig => ({
    schema: DATAPLANE_CONFIG_SCHEMA, gateway: { namespace: 'ns', name: 'gw' }, listeners: [], actions: [], clusters: [], certificates: [], caBundles: [],
    xfcc: { mode: 'Sanitize', subject: false, cert: false, chain: false, uri: false, dns: false }, trustedProxyHops: hops,
  });
  t.equal(canonicalJson({ b: 1, a: [{ d: 2, c: null }] }), '{"a":[{"c":null,"d":2}],"b":1}');
  t.equal(serializeConfig(config(1)).digest, serializeConfig(config(1)).digest);
  t.not(serializeConfig(config(1)).digest, serializeConfig(config(2)).digest);
  t.match(serializeConfig(config(1)).digest, /^sha256:[0-9a-f]{64}$/);
  t.end();
});

t.test('statuses read like kubectl describe, with problems spelled out', (t) => {
  const text = formatStatuses([gatewayStatus(false)]);
  t.match(text, 'Gateway ns/gw  Accepted=True  ✗ Programmed=False');
  t.match(text, 'Programmed Invalid: Programmed Invalid');
  t.end();
});

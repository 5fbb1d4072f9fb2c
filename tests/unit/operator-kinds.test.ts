// The registry of kinds is the one list: config/rbac must grant what the registry implies, and
// the provider boundary admits exactly what has its kind's shape, reporting each bad version once.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { KINDS, RESOURCE_KINDS, SNAPSHOT_KINDS } from '../../operator/kinds.ts';
import { admit, ProviderAdmission, withoutNulls } from '../../operator/provider/admission.ts';
import { emptySnapshot } from '../../operator/store/index.ts';

interface PolicyRule {
  readonly apiGroups?: readonly string[];
  readonly resources?: readonly string[];
  readonly verbs?: readonly string[];
}

const RBAC_FILE = join(import.meta.dirname, '..', '..', 'config', 'rbac', 'operator-rbac.yaml');

function clusterRoleRules(): PolicyRule[] {
  const documents = parseAllDocuments(readFileSync(RBAC_FILE, 'utf8')).map((document) => document.toJS() as { kind?: string; rules?: PolicyRule[] });
  return documents.filter((document) => document.kind === 'ClusterRole').flatMap((document) => document.rules ?? []);
}

function granted(rules: readonly PolicyRule[], group: string, resource: string, verb: string): boolean {
  return rules.some((rule) => (rule.apiGroups ?? []).includes(group) && (rule.resources ?? []).includes(resource) && (rule.verbs ?? []).includes(verb));
}

t.test('config/rbac grants list and watch of every registered kind, and status updates where Weir writes status', (t) => {
  const rules = clusterRoleRules();
  for (const resource of RESOURCE_KINDS) {
    for (const verb of ['list', 'watch']) t.ok(granted(rules, resource.group, resource.plural, verb), `${verb} ${resource.plural}`);
    const writesStatus = resource.status !== 'none';
    t.equal(granted(rules, resource.group, `${resource.plural}/status`, 'update'), writesStatus, `update ${resource.plural}/status ${writesStatus ? 'granted' : 'not granted'}`);
  }
  t.end();
});

t.test('the snapshot has one list per registered kind', (t) => {
  const snapshot = emptySnapshot() as unknown as Record<string, unknown>;
  t.same(Object.keys(snapshot).filter((field) => field !== 'controllerName').sort(), SNAPSHOT_KINDS.map((kind) => KINDS[kind].snapshotField).sort());
  t.end();
});

const route = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'r', namespace: 'ns', resourceVersion: '1' }, spec: { parentRefs: [{ name: 'gw' }] } };

t.test('admission types a well-formed object and names the path of a malformed one', (t) => {
  const ok = admit('HTTPRoute', route);
  t.ok(ok.ok);
  if (ok.ok) t.equal(ok.object.spec.parentRefs?.[0]?.name, 'gw');
  const bad = admit('HTTPRoute', { ...route, spec: { rules: 'all' } });
  t.notOk(bad.ok);
  if (!bad.ok) t.same(bad.problems, ['/spec/rules: Expected array']);
  const nameless = admit('Gateway', { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: {}, spec: { gatewayClassName: 'weir', listeners: [] } });
  t.notOk(nameless.ok, 'an object without a name is not admitted');
  t.end();
});

t.test('a provider reports each malformed object version once', (t) => {
  const reports: string[] = [];
  const admission = new ProviderAdmission((message) => reports.push(message));
  const broken = { ...route, spec: { hostnames: 'example.com' } };
  t.equal(admission.admit('HTTPRoute', broken), undefined);
  t.equal(admission.admit('HTTPRoute', broken), undefined);
  t.same(reports, ['HTTPRoute ns/r is malformed and left out: /spec/hostnames: Expected array']);
  t.equal(admission.admit('HTTPRoute', { ...broken, metadata: { ...broken.metadata, resourceVersion: '2' } }), undefined);
  t.equal(reports.length, 2, 'a new version of the object is reported again');
  t.ok(admission.admit('HTTPRoute', route), 'a well-formed object is admitted');
  t.end();
});

t.test('null means unset, as the API server writes an empty list', (t) => {
  const slice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'echo-abcde', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'echo' } },
    addressType: 'IPv4',
    endpoints: null,
    ports: null,
  };
  const admission = admit('EndpointSlice', slice);
  t.ok(admission.ok, 'an EndpointSlice with no endpoints yet is admitted');
  if (admission.ok) {
    t.notOk('endpoints' in admission.object, 'the null list is left out');
    t.equal(admission.object.metadata.name, 'echo-abcde');
  }
  t.equal(slice.endpoints, null, 'the input is not changed');
  const withEndpoint = { ...slice, endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true }, hints: null }] };
  const nested = admit('EndpointSlice', withEndpoint);
  const endpoint = nested.ok ? nested.object.endpoints?.[0] : undefined;
  t.equal(endpoint?.addresses[0], '10.0.0.1');
  t.ok(endpoint !== undefined && !('hints' in endpoint), 'nested nulls are left out too');
  const clean = { a: [1, { b: 'c' }] };
  t.equal(withoutNulls(clean), clean, 'an object without nulls is returned as is');
  t.end();
});

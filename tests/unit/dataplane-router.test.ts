// Route selection: listener choice by Host, hostname buckets, path precedence, method/header/query
// matches, and that the translator's precedence order is what decides between candidates.
import t from 'tap';
import type { HttpListener, HttpRule } from '../../api-types/dataplane-config.ts';
import { compileConfig, type CompiledConfig } from '../../dataplane/compile.ts';
import { hostOf, HostTable } from '../../dataplane/hostnames.ts';
import { resolveListener, resolveRoute } from '../../dataplane/resolve.ts';
import { DataplaneMetrics } from '../../dataplane/telemetry/metrics.ts';
import { UpstreamRegistry } from '../../dataplane/upstreams.ts';
import { action, dataplaneConfig, published, rule } from '../integration/dataplane-fixtures.ts';

const gateway = { namespace: 'ns', name: 'gw' };

async function compile(listeners: HttpListener[], actionCount: number): Promise<CompiledConfig> {
  const actions = Array.from({ length: actionCount }, (_, i) => action(`a${i}`, undefined, { directStatus: 200 }));
  const registry = new UpstreamRegistry();
  t.teardown(() => registry.closeAll());
  return compileConfig(published(dataplaneConfig(gateway, { listeners, actions, clusters: [] }), 1), {
    upstreams: registry,
    metrics: new DataplaneMetrics({ processMetrics: false }),
  });
}

/** The action id chosen for a request, or undefined for 404. */
function route(config: CompiledConfig, port: number, url: string, options: { host?: string; method?: string; headers?: Record<string, string> } = {}): string | undefined {
  const host = hostOf(options.host ?? 'example.com');
  const listener = resolveListener(config.ports.get(port), host);
  if (listener === undefined) return undefined;
  const mark = url.indexOf('?');
  const path = mark === -1 ? url : url.slice(0, mark);
  const query = mark === -1 ? '' : url.slice(mark + 1);
  return resolveRoute(listener, host, options.method ?? 'GET', path, query, options.headers ?? {})?.action.id;
}

function listener(rules: HttpRule[], extra: Partial<HttpListener> = {}): HttpListener {
  return { id: 'ns/gw/http', port: 80, protocol: 'HTTP', rules, ...extra };
}

t.test('hostOf strips the port, lower-cases and keeps IPv6 literals', (t) => {
  t.equal(hostOf('Example.COM:8080'), 'example.com');
  t.equal(hostOf('example.com.'), 'example.com');
  t.equal(hostOf('[::1]:80'), '[::1]');
  t.equal(hostOf(undefined), '');
  t.end();
});

t.test('HostTable: exact beats the longest wildcard, which beats catch-all; wildcards need a label', (t) => {
  const table = new HostTable<string>();
  table.entry('foo.example.com', () => 'exact');
  table.entry('*.example.com', () => 'wild');
  table.entry('*.b.example.com', () => 'wild-b');
  table.entry(undefined, () => 'any');
  t.equal(table.lookup('foo.example.com'), 'exact');
  t.equal(table.lookup('bar.example.com'), 'wild');
  t.equal(table.lookup('a.b.example.com'), 'wild-b');
  t.equal(table.lookup('x.y.example.com'), 'wild', 'a wildcard matches several labels');
  t.equal(table.lookup('example.com'), 'any', '*.example.com does not match example.com');
  const out: string[] = [];
  t.equal(table.matchesInto('a.b.example.com', out), 3);
  t.same(out.slice(0, 3), ['wild-b', 'wild', 'any']);
  t.end();
});

t.test('exact path beats any prefix; longest prefix wins; prefixes match whole segments', async (t) => {
  const config = await compile(
    [listener([
      rule(0, { path: { type: 'Exact', value: '/foo' } }),
      rule(1, { path: { type: 'PathPrefix', value: '/foo/bar' } }),
      rule(2, { path: { type: 'PathPrefix', value: '/foo' } }),
      rule(3, { path: { type: 'PathPrefix', value: '/' } }),
    ])],
    4,
  );
  t.equal(route(config, 80, '/foo'), 'a0');
  t.equal(route(config, 80, '/foo/'), 'a2', 'trailing slash is a prefix match, not exact');
  t.equal(route(config, 80, '/foo/bar/baz'), 'a1');
  t.equal(route(config, 80, '/foo/barn'), 'a2', '/foo/bar does not match /foo/barn');
  t.equal(route(config, 80, '/foobar'), 'a3', '/foo does not match /foobar');
  t.equal(route(config, 80, '/foo?x=1'), 'a0', 'the query is not part of the path');
  t.equal(route(config, 80, '/'), 'a3');
});

t.test('method, headers and query params narrow a rule and follow the given precedence', async (t) => {
  const config = await compile(
    [listener([
      rule(0, { path: { type: 'PathPrefix', value: '/api' }, method: 'POST', headers: [{ type: 'Exact', name: 'version', value: 'two' }] }),
      rule(1, { path: { type: 'PathPrefix', value: '/api' }, method: 'POST' }),
      rule(2, { path: { type: 'PathPrefix', value: '/api' }, headers: [{ type: 'RegularExpression', name: 'version', value: 'v[0-9]+' }], queryParams: [{ type: 'Exact', name: 'debug', value: '1' }] }),
      rule(3, { path: { type: 'PathPrefix', value: '/api' }, queryParams: [{ type: 'RegularExpression', name: 'id', value: '[a-f]+' }] }),
      rule(4, { path: { type: 'PathPrefix', value: '/api' } }),
    ])],
    5,
  );
  t.equal(route(config, 80, '/api/x', { method: 'POST', headers: { version: 'two' } }), 'a0');
  t.equal(route(config, 80, '/api/x', { method: 'POST', headers: { version: 'three' } }), 'a1');
  t.equal(route(config, 80, '/api/x?debug=1', { headers: { version: 'v12' } }), 'a2');
  t.equal(route(config, 80, '/api/x?debug=1', { headers: { version: 'v12x' } }), 'a4', 'header regex is a full match');
  t.equal(route(config, 80, '/api/x?id=abc&debug=2'), 'a3');
  t.equal(route(config, 80, '/api/x?id=abc1'), 'a4', 'query regex is a full match');
  t.equal(route(config, 80, '/api/x?debug=2&debug=1', { headers: { version: 'v1' } }), 'a4', 'the first query value counts');
  t.equal(route(config, 80, '/api/x'), 'a4');
});

t.test('regular expression paths are full matches and keep their place in the order', async (t) => {
  const config = await compile(
    [listener([
      rule(0, { path: { type: 'Exact', value: '/items/special' } }),
      rule(1, { path: { type: 'RegularExpression', value: '/items/[0-9]+' } }),
      rule(2, { path: { type: 'PathPrefix', value: '/items' } }),
    ])],
    3,
  );
  t.equal(route(config, 80, '/items/special'), 'a0');
  t.equal(route(config, 80, '/items/42'), 'a1');
  t.equal(route(config, 80, '/items/42/x'), 'a2');
  t.equal(route(config, 80, '/other'), undefined, 'no match is a 404');
});

t.test('an invalid regular expression fails compilation', async (t) => {
  await t.rejects(compile([listener([rule(0, { path: { type: 'RegularExpression', value: '/(' } })])], 1), /invalid path regular expression/);
});

t.test('route hostnames: most specific bucket first, falling through to less specific ones', async (t) => {
  const config = await compile(
    [listener([
      rule(0, { hostnames: ['foo.example.com'], path: { type: 'Exact', value: '/only-exact' } }),
      rule(1, { hostnames: ['*.example.com'], path: { type: 'PathPrefix', value: '/' } }),
      rule(2, { hostnames: [], path: { type: 'PathPrefix', value: '/' } }),
    ])],
    3,
  );
  t.equal(route(config, 80, '/only-exact', { host: 'foo.example.com' }), 'a0');
  t.equal(route(config, 80, '/x', { host: 'foo.example.com' }), 'a1', 'a rule on the wildcard host serves what the exact host does not');
  t.equal(route(config, 80, '/x', { host: 'bar.example.com:8080' }), 'a1');
  t.equal(route(config, 80, '/x', { host: 'example.com' }), 'a2');
  t.equal(route(config, 80, '/only-exact', { host: 'other.org' }), 'a2');
});

t.test('listeners on one port: the most specific listener hostname wins and routes never cross listeners', async (t) => {
  const config = await compile(
    [
      listener([rule(0)], { id: 'exact', hostname: 'foo.example.com' }),
      listener([rule(1, { path: { type: 'Exact', value: '/wild-only' } })], { id: 'wild', hostname: '*.example.com' }),
      listener([rule(2)], { id: 'any' }),
      listener([rule(3)], { id: 'other-port', port: 8080 }),
    ],
    4,
  );
  t.equal(route(config, 80, '/wild-only', { host: 'foo.example.com' }), 'a0');
  t.equal(route(config, 80, '/wild-only', { host: 'bar.example.com' }), 'a1');
  t.equal(route(config, 80, '/x', { host: 'bar.example.com' }), undefined, 'isolation: the catch-all listener does not serve a host claimed by a more specific listener');
  t.equal(route(config, 80, '/x', { host: 'other.org' }), 'a2');
  t.equal(route(config, 8080, '/x', { host: 'foo.example.com' }), 'a3');
  t.equal(route(config, 9999, '/x'), undefined, 'a port without listeners matches nothing');
});

t.test('lookup work does not depend on the number of routes', async (t) => {
  // 5,000 exact and 5,000 prefix rules on distinct paths: a request only inspects its own.
  const rules: HttpRule[] = [];
  for (let i = 0; i < 5_000; i++) rules.push(rule(0, { path: { type: 'Exact', value: `/exact/${i}` } }));
  for (let i = 0; i < 5_000; i++) rules.push(rule(1, { path: { type: 'PathPrefix', value: `/prefix/${i}` } }));
  const config = await compile([listener(rules)], 2);
  t.equal(route(config, 80, '/exact/4999'), 'a0');
  t.equal(route(config, 80, '/prefix/4999/more'), 'a1');
  t.equal(route(config, 80, '/prefix/5000'), undefined);
});

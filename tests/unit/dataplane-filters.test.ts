import t from 'tap';
import { addActualResponseHeaders, compileCors, isPreflight, preflightHeaders } from '../../dataplane/filters/cors.ts';
import { addForwardingHeaders, endToEndRequestHeaders, stripResponseHopByHop, type HeaderMap } from '../../dataplane/filters/headers.ts';
import { applyHeaderModifier, compileHeaderModifier } from '../../dataplane/filters/header-modifiers.ts';
import { replacePrefix } from '../../dataplane/filters/paths.ts';
import { redirectLocation } from '../../dataplane/filters/redirect.ts';
import { compileBackendStages, compileRuleStages, DATAPLANE_FILTERS, type FilterRequest } from '../../dataplane/filters/index.ts';
import type { HeaderModifier, RuleAction, WeightedBackend } from '../../api-types/dataplane-config.ts';
import { ROUTE_FILTERS } from '../../operator/translator/filters/index.ts';

t.test('prefix replacement works on segment boundaries', (t) => {
  t.equal(replacePrefix('/foo/x', '/foo', '/bar'), '/bar/x');
  t.equal(replacePrefix('/foo', '/foo', '/bar'), '/bar');
  t.equal(replacePrefix('/foo/', '/foo', '/bar'), '/bar/');
  t.equal(replacePrefix('/foo/x', '/foo', '/'), '/x');
  t.equal(replacePrefix('/foo', '/foo', '/'), '/');
  t.equal(replacePrefix('/foo/x', '/foo', '/bar/'), '/bar/x');
  t.equal(replacePrefix('/x/y', '/', '/base'), '/base/x/y');
  t.equal(replacePrefix('/prefix/one/two', '/prefix/one', '/one'), '/one/two');
  t.end();
});

t.test('redirect Location: scheme, host, port rules and paths', (t) => {
  const request = { scheme: 'http' as const, host: 'example.com', path: '/a/b', query: 'q=1', listenerPort: 8080 };
  t.equal(redirectLocation({ statusCode: 302 }, request, undefined), 'http://example.com:8080/a/b?q=1', 'no change keeps the listener port');
  t.equal(redirectLocation({ statusCode: 301, scheme: 'https' }, request, undefined), 'https://example.com/a/b?q=1', 'a scheme change implies its well-known port');
  t.equal(redirectLocation({ statusCode: 301, hostname: 'other.org' }, { ...request, listenerPort: 80 }, undefined), 'http://other.org/a/b?q=1', 'port 80 with http is omitted');
  t.equal(redirectLocation({ statusCode: 302, port: 443, scheme: 'https' }, request, undefined), 'https://example.com/a/b?q=1');
  t.equal(redirectLocation({ statusCode: 302, port: 8443, scheme: 'https' }, request, undefined), 'https://example.com:8443/a/b?q=1');
  t.equal(redirectLocation({ statusCode: 307, port: 80 }, request, undefined), 'http://example.com/a/b?q=1');
  t.equal(redirectLocation({ statusCode: 308, path: { type: 'ReplaceFullPath', replaceFullPath: '/new' } }, request, '/a'), 'http://example.com:8080/new?q=1');
  t.equal(redirectLocation({ statusCode: 303, path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/z' } }, request, '/a'), 'http://example.com:8080/z/b?q=1');
  t.end();
});

t.test('hop-by-hop headers, including names listed in Connection, are not forwarded', (t) => {
  const out = endToEndRequestHeaders({ connection: 'keep-alive, x-secret', 'keep-alive': 'timeout=5', 'x-secret': 's', 'transfer-encoding': 'chunked', te: 'trailers, deflate', upgrade: 'h2c', 'proxy-connection': 'x', accept: '*/*' });
  t.same({ ...out }, { accept: '*/*', te: 'trailers' });
  const response: HeaderMap = { connection: 'close, x-internal', 'x-internal': '1', 'keep-alive': 'timeout=5', 'transfer-encoding': 'chunked', 'content-type': 'text/plain' };
  stripResponseHopByHop(response);
  t.same(response, { 'content-type': 'text/plain' });
  t.end();
});

t.test('X-Forwarded-* and X-Request-Id: replaced when untrusted, extended/kept when trusted', (t) => {
  const incoming = { host: 'example.com', 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'https', 'x-request-id': 'given' };
  const untrusted = endToEndRequestHeaders(incoming);
  addForwardingHeaders(untrusted, incoming, { scheme: 'http', remoteAddress: '10.0.0.1', trusted: false });
  t.equal(untrusted['x-forwarded-for'], '10.0.0.1');
  t.equal(untrusted['x-forwarded-proto'], 'http');
  t.equal(untrusted['x-forwarded-host'], 'example.com');
  t.not(untrusted['x-request-id'], 'given');
  t.match(untrusted['x-request-id'], /^[0-9a-f-]{36}$/);
  const trusted = endToEndRequestHeaders(incoming);
  addForwardingHeaders(trusted, incoming, { scheme: 'http', remoteAddress: '10.0.0.1', trusted: true });
  t.equal(trusted['x-forwarded-for'], '203.0.113.9, 10.0.0.1');
  t.equal(trusted['x-forwarded-proto'], 'https');
  t.equal(trusted['x-request-id'], 'given');
  t.end();
});

t.test('header modifier: set replaces, add appends a line, remove deletes', (t) => {
  const modifier = compileHeaderModifier({ set: [{ name: 'X-Set', value: 'new' }], add: [{ name: 'x-add', value: 'two' }, { name: 'x-fresh', value: 'f' }], remove: ['X-Gone'] })!;
  const headers: HeaderMap = { 'x-set': 'old', 'x-add': 'one', 'x-gone': 'bye', keep: 'k' };
  applyHeaderModifier(headers, modifier);
  t.same(headers, { 'x-set': 'new', 'x-add': ['one', 'two'], 'x-fresh': 'f', keep: 'k' });
  t.equal(compileHeaderModifier({ set: [], add: [], remove: [] }), undefined, 'an empty modifier compiles to nothing');
  t.end();
});

t.test('CORS: preflight answers and actual-request headers', (t) => {
  const cors = compileCors({
    allowOrigins: ['https://www.foo.com', 'https://*.bar.com'],
    allowMethods: ['GET', 'OPTIONS'],
    allowHeaders: ['x-header-1', 'x-header-2'],
    exposeHeaders: ['x-header-3'],
    allowCredentials: true,
    maxAgeSeconds: 3600,
  })!;
  const preflight = { origin: 'https://xpto.www.bar.com', 'access-control-request-method': 'GET' };
  t.ok(isPreflight('OPTIONS', preflight));
  t.notOk(isPreflight('GET', preflight));
  t.same(preflightHeaders(cors, preflight), {
    'access-control-allow-origin': 'https://xpto.www.bar.com',
    vary: 'Origin',
    'access-control-allow-methods': 'GET, OPTIONS',
    'access-control-allow-headers': 'x-header-1, x-header-2',
    'access-control-expose-headers': 'x-header-3',
    'access-control-allow-credentials': 'true',
    'access-control-max-age': '3600',
  });
  t.equal(preflightHeaders(cors, { origin: 'https://bar.com', 'access-control-request-method': 'GET' }), undefined, '*.bar.com needs a label');
  const response: HeaderMap = { vary: 'Accept' };
  addActualResponseHeaders(cors, 'https://www.foo.com', response);
  t.same(response, { vary: 'Accept, Origin', 'access-control-allow-origin': 'https://www.foo.com', 'access-control-allow-credentials': 'true', 'access-control-expose-headers': 'x-header-3' });
  const untouched: HeaderMap = {};
  addActualResponseHeaders(cors, 'https://evil.com', untouched);
  t.same(untouched, {});

  const wildcard = compileCors({ allowOrigins: ['*'], allowMethods: ['*'], allowHeaders: ['*'], exposeHeaders: [], allowCredentials: false, maxAgeSeconds: 5 })!;
  const answer = preflightHeaders(wildcard, { origin: 'https://any.org:123', 'access-control-request-method': 'PUT' })!;
  t.equal(answer['access-control-allow-methods'], '*');
  t.equal(answer['access-control-allow-credentials'], undefined);
  t.end();
});

const modifier = (name: string, value: string): HeaderModifier => ({ set: [{ name, value }], add: [], remove: [] });
const baseAction: RuleAction = { id: 'HTTPRoute/ns/r/rule/0', route: { kind: 'HTTPRoute', namespace: 'ns', name: 'r' }, mirrors: [], backends: [], timeouts: {} };

t.test('backend stages combine the rule and the backendRef in the registry order', (t) => {
  const action: RuleAction = {
    ...baseAction,
    requestHeaders: modifier('x-who', 'rule'),
    responseHeaders: modifier('x-resp', 'rule'),
    urlRewrite: { hostname: 'rule.example', path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/rule' } },
    cors: { allowOrigins: ['https://a.example'], allowMethods: [], allowHeaders: [], exposeHeaders: [], allowCredentials: false, maxAgeSeconds: 5 },
  };
  const backend: WeightedBackend = { weight: 1, clusterId: 'c', requestHeaders: modifier('x-who', 'backend'), urlRewrite: { path: { type: 'ReplaceFullPath', replaceFullPath: '/full' } } };
  const stages = compileBackendStages(action, backend);
  // The backendRef's path wins over the rule's; the rule's hostname stays (field by field).
  t.same(stages.upstreamPath.map((rewrite) => rewrite('/a/b', '/a')), ['/full']);
  const headers: HeaderMap = { host: 'client.example' };
  for (const modify of stages.requestHeaders) modify(headers);
  t.same(headers, { host: 'rule.example', 'x-who': 'backend' }, 'rewrite first, then the rule modifier, then the backendRef one');
  const response: HeaderMap = {};
  for (const modify of stages.responseHeaders) modify(response, { origin: 'https://a.example' });
  t.same(response, { 'x-resp': 'rule', 'access-control-allow-origin': 'https://a.example', vary: 'Origin' }, 'modifiers, then CORS');
  t.same(compileBackendStages(baseAction, { weight: 1 }), { upstreamPath: [], requestHeaders: [], responseHeaders: [] }, 'no filter, no stage');
  t.end();
});

t.test('rule stages answer a CORS preflight before a redirect', (t) => {
  const action: RuleAction = {
    ...baseAction,
    redirect: { statusCode: 301, scheme: 'https' },
    cors: { allowOrigins: ['*'], allowMethods: ['GET'], allowHeaders: [], exposeHeaders: [], allowCredentials: false, maxAgeSeconds: 5 },
  };
  const stages = compileRuleStages(action, { cluster: () => undefined });
  t.equal(stages.copies.length, 0, 'mirrors to unknown clusters are dropped');
  const request = { method: 'OPTIONS', headers: { origin: 'https://x.example', 'access-control-request-method': 'GET' }, scheme: 'http', host: 'h.example', path: '/p', query: 'q=1', listenerPort: 80, prefix: undefined } as const;
  const answer = (req: FilterRequest): number | undefined => {
    for (const stage of stages.answers) {
      const reply = stage(req);
      if (reply !== undefined) return reply.status;
    }
    return undefined;
  };
  t.equal(answer(request), 200);
  t.equal(answer({ ...request, method: 'GET' }), 301);
  t.end();
});

t.test('every translator filter that reaches the contract has a dataplane half', (t) => {
  const dataplane = new Set(DATAPLANE_FILTERS.map((filter) => filter.type));
  // ExtensionRef only ever becomes a 500 (directStatus): nothing for the dataplane to run.
  const translated = ROUTE_FILTERS.map((filter) => filter.type).filter((type) => type !== 'ExtensionRef');
  t.same([...translated].sort(), [...dataplane].sort());
  t.end();
});

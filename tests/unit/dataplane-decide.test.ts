// The request decision without sockets: plain request objects in, a local answer or a forward
// plan out. The hostile-input suite (tests/security/request-*) drives the same function through
// real connections.
import t from 'tap';
import type { DataplaneConfig } from '../../api-types/dataplane-config.ts';
import { compileConfig, type CompiledConfig } from '../../dataplane/compile.ts';
import { decide, misdirected, PLAIN_CONNECTION, requestHost, type ConnectionView, type Decision, type RequestView } from '../../dataplane/decide.ts';
import { normalizePath } from '../../dataplane/path-normalization.ts';
import { DataplaneMetrics } from '../../dataplane/telemetry/metrics.ts';
import type { ConnectionTls } from '../../dataplane/tls/client-validation.ts';
import { UpstreamRegistry } from '../../dataplane/upstreams.ts';
import { action, dataplaneConfig, newGateway, published, rule } from '../integration/dataplane-fixtures.ts';

const registry = new UpstreamRegistry();
t.teardown(() => registry.closeAll());

async function compile(config: DataplaneConfig): Promise<CompiledConfig> {
  return compileConfig(published(config, 1), { upstreams: registry, metrics: new DataplaneMetrics({ processMetrics: false }) });
}

function request(url: string, headers: Record<string, string | string[]> = { host: 'a.test' }, extra: Partial<RequestView> = {}): RequestView {
  const rawHeaders = Object.entries(headers).flatMap(([name, value]) => (Array.isArray(value) ? value.flatMap((v) => [name, v]) : [name, value]));
  const merged = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, Array.isArray(value) ? value[0] : value]));
  return { method: 'GET', url, headers: merged, rawHeaders, httpVersionMajor: 1, socket: { remoteAddress: '192.0.2.7' }, ...extra };
}

const config = await compile(dataplaneConfig(newGateway(), {
  listeners: [{
    id: 'gw/http',
    port: 80,
    protocol: 'HTTP',
    rules: [
      rule(0, { path: { type: 'PathPrefix', value: '/admin' } }),
      rule(1, { path: { type: 'PathPrefix', value: '/old' } }),
      rule(2, { path: { type: 'PathPrefix', value: '/api' } }),
    ],
  }],
  actions: [
    action('admin', 'echo'),
    action('redirect', undefined, { redirect: { statusCode: 301, scheme: 'https' } }),
    action('api', 'echo', { urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2' } } }),
  ],
  clusters: [{ id: 'echo', backend: { kind: 'Service', namespace: 't', name: 'echo' }, protocol: 'http1', endpoints: [{ address: '127.0.0.1', port: 9, ready: true }] }],
}));

function local(decision: Decision): number {
  return decision.kind === 'local' ? decision.status : 0;
}

t.test('requestHost: one host per request', (t) => {
  t.equal(requestHost(request('/', { host: 'A.Test.:8080' })), 'a.test');
  t.equal(requestHost(request('/', { host: ['a.test', 'a.test'] })), undefined, 'two Host fields, even equal');
  t.equal(requestHost(request('/', { host: 'a.test/x' })), undefined);
  t.equal(requestHost(request('/', { host: 'u@a.test' })), undefined);
  t.equal(requestHost(request('/', { host: '[::1]:80' })), '[::1]');
  t.equal(requestHost(request('/', { host: '[::1' })), undefined);
  t.equal(requestHost(request('/', {})), '', 'HTTP/1.0 without Host');
  const h2 = (headers: Record<string, string>): RequestView => request('/', headers, { httpVersionMajor: 2 });
  t.equal(requestHost(h2({ ':authority': 'a.test' })), 'a.test');
  t.equal(requestHost(h2({ ':authority': 'a.test', host: 'A.TEST' })), 'a.test', 'host equal to :authority (case aside)');
  t.equal(requestHost(h2({ ':authority': 'a.test', host: 'b.test' })), undefined, 'RFC 9113 §8.3.1: conflicting host is malformed');
  t.equal(requestHost(h2({ host: 'b.test' })), 'b.test', 'no :authority: host');
  t.end();
});

t.test('misdirected: TLS connections only serve their own listener with its validation of the handshake', (t) => {
  const tls = (id: string, key: string): ConnectionView => ({ secure: true, tls: { selection: { listener: { id, key } }, verified: false, client: () => undefined } as unknown as ConnectionTls });
  t.equal(misdirected({ id: 'l', tlsKey: 'k1' }, true, tls('l', 'k1')), 'no');
  t.equal(misdirected({ id: 'm', tlsKey: 'k2' }, true, tls('l', 'k1')), 'misdirected', 'another listener');
  t.equal(misdirected(undefined, true, tls('l', 'k1')), 'misdirected', 'no listener');
  t.equal(misdirected({ id: 'l', tlsKey: 'k2' }, true, tls('l', 'k1')), 'stale', 'validation changed');
  t.equal(misdirected({ id: 'l', tlsKey: 'k1' }, true, { secure: true, tls: undefined }), 'misdirected', 'never accepted');
  t.equal(misdirected({ id: 'l', tlsKey: undefined }, false, tls('l', 'k1')), 'misdirected', 'TLS on a cleartext port');
  t.equal(misdirected({ id: 'l', tlsKey: 'k1' }, true, PLAIN_CONNECTION), 'misdirected', 'cleartext on a TLS port');
  t.equal(misdirected(undefined, false, PLAIN_CONNECTION), 'no', 'cleartext: routing decides (404)');
  t.end();
});

t.test('decide: local answers', (t) => {
  t.equal(local(decide(undefined, request('/'), 80, PLAIN_CONNECTION)), 503, 'no config yet');
  t.equal(local(decide(config, request('/', { host: ['a.test', 'b.test'] }), 80, PLAIN_CONNECTION)), 400);
  t.equal(local(decide(config, request('http://a.test/'), 80, PLAIN_CONNECTION)), 400, 'absolute-form');
  t.equal(local(decide(config, request('/admin#x'), 80, PLAIN_CONNECTION)), 400, 'fragment');
  t.equal(local(decide(config, request('/x/%2fadmin'), 80, PLAIN_CONNECTION)), 400, 'encoded slash');
  t.equal(local(decide(config, request('/nothing'), 80, PLAIN_CONNECTION)), 404);
  t.equal(local(decide(config, request('/'), 81, PLAIN_CONNECTION)), 404, 'port without listeners');
  const redirect = decide(config, request('/x/../old/page?q=1'), 80, PLAIN_CONNECTION);
  t.match(redirect, { kind: 'local', status: 301, headers: { location: 'https://a.test/old/page?q=1' } }, 'redirect from the normalised path');
  const malformed = decide(config, request('/', { host: ['a', 'b'] }), 80, PLAIN_CONNECTION);
  t.equal(malformed.kind === 'local' ? malformed.closeConnection : undefined, 'http1', 'malformed: HTTP/1.1 connection closed');
  t.end();
});

t.test('decide: forward plans carry the normalised path and sanitised headers', (t) => {
  const plan = decide(config, request('/public/%2e%2e/admin/./x?y=/../z', { host: 'a.test', 'x-real-ip': '1.2.3.4', 'x_forwarded_for': '1.2.3.4', expect: '100-continue', 'x-forwarded-client-cert': 'Hash=00' }), 80, PLAIN_CONNECTION);
  if (plan.kind !== 'forward') throw new Error(`expected a forward plan, got ${local(plan)}`);
  t.equal(plan.action.id, 'admin');
  t.equal(plan.upstreamPath, '/admin/x?y=/../z');
  t.equal(plan.headers['x-forwarded-for'], '192.0.2.7');
  for (const name of ['x-real-ip', 'x_forwarded_for', 'expect', 'x-forwarded-client-cert']) t.equal(plan.headers[name], undefined, `${name} not forwarded`);
  const untouched = decide(config, request('/admin/x?q'), 80, PLAIN_CONNECTION);
  t.equal(untouched.kind === 'forward' ? untouched.upstreamPath : '', '/admin/x?q', 'a normal path is forwarded as sent');
  const rewritten = decide(config, request('/api/../api/users'), 80, PLAIN_CONNECTION);
  t.equal(rewritten.kind === 'forward' ? rewritten.upstreamPath : '', '/v2/users', 'rewrites apply to the normalised path');
  t.end();
});

t.test('normalizePath', (t) => {
  const cases: [string, string | undefined][] = [
    ['/', '/'],
    ['/a/b', '/a/b'],
    ['/a/./b/../c', '/a/c'],
    ['/a/b/..', '/a/'],
    ['/..', '/'],
    ['/a//b///c', '/a/b/c'],
    ['//', '/'],
    ['/%41%7a%2D%2e%5f%7E', '/Az-._~'],
    ['/%c3%a9', '/%C3%A9'],
    ['/%252e%252e', '/%252e%252e'],
    ['/a/%2e%2E/b', '/b'],
    ['/a%2fb', undefined],
    ['/a%5Cb', undefined],
    ['/a\\b', undefined],
    ['/a%00', undefined],
    ['/a%g0', undefined],
    ['/a%', undefined],
  ];
  for (const [input, expected] of cases) t.equal(normalizePath(input), expected, input);
  t.equal(normalizePath('/a//b', { mergeSlashes: false, escapedSlashes: 'Reject' }), '/a//b');
  t.equal(normalizePath('/a%2f..%2fb', { mergeSlashes: true, escapedSlashes: 'Keep' }), '/a%2F..%2Fb');
  t.equal(normalizePath('/a%2f..%2fb', { mergeSlashes: true, escapedSlashes: 'Decode' }), '/b');
  t.equal(normalizePath('/a\\..\\b', { mergeSlashes: true, escapedSlashes: 'Decode' }), '/b');
  t.end();
});

// Route precedence through the whole pipeline (standalone: translator → dataplane → echo
// backends), as the v1.7.0 conformance tests httproute-multiple-routes-attachment-same-hostname-
// intersection (GatewayRouteHostnameIntersectionPrecedence) and httproute-rule-order assert.
import t from 'tap';
import { echoServiceYaml, GATEWAY_CLASS_YAML, send, startScenario } from './standalone-fixtures.ts';

const route = (name: string, created: string, hostnames: string[], rules: string): string => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: default, creationTimestamp: "${created}" }
spec:
  parentRefs: [{ name: gw }]
  hostnames: ${JSON.stringify(hostnames)}
  rules:
${rules}`;

t.test('an exact route hostname outranks an older wildcard route narrowed to the same listener hostname', async (t) => {
  const { gatewayPort } = await startScenario(t, [
    GATEWAY_CLASS_YAML,
    `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw, namespace: default }
spec:
  gatewayClassName: weir
  listeners:
    - { name: exact, protocol: HTTP, port: {{PORT}}, hostname: abc.example.com }
    - { name: wildcard, protocol: HTTP, port: {{PORT}}, hostname: "*.example.org" }
`,
    echoServiceYaml('default', 'v1'),
    echoServiceYaml('default', 'v2'),
    // Older wildcard route: longer path and a header match, so it would win on the intersection alone.
    route('wc-older', '2026-01-01T00:00:00Z', ['*.example.com'], `    - matches: [{ path: { type: PathPrefix, value: /path/prefix }, headers: [{ name: header-b, value: B }] }]
      backendRefs: [{ name: v1, port: 8080 }]
`),
    route('exact-newer', '2026-01-01T00:00:10Z', ['abc.example.com'], `    - matches: [{ path: { type: PathPrefix, value: /path } }]
      backendRefs: [{ name: v2, port: 8080 }]
`),
    // On the *.example.org listener: a more specific wildcard beats an older, less specific one.
    route('less-specific-older', '2026-01-01T00:00:00Z', ['*.org'], `    - backendRefs: [{ name: v1, port: 8080 }]
`),
    route('more-specific-newer', '2026-01-01T00:00:10Z', ['*.example.org'], `    - matches: [{ path: { type: PathPrefix, value: /only } }]
      backendRefs: [{ name: v2, port: 8080 }]
`),
  ].join('---\n'));

  t.equal((await send(gatewayPort, 'abc.example.com', '/path/prefix/longer', { 'header-b': 'B' })).service, 'v2', 'the exact-hostname route wins despite being newer and less specific');
  t.equal((await send(gatewayPort, 'abc.example.com', '/other', { 'header-b': 'B' })).status, 404, 'neither route matches /other');
  const fallthrough = await send(gatewayPort, 'abc.example.com', '/path/prefix/longer', { 'header-b': 'B' });
  t.equal(fallthrough.service, 'v2');
  t.equal((await send(gatewayPort, 'abc.example.com', '/pat', {})).status, 404);
  t.equal((await send(gatewayPort, 'x.example.org', '/only/here')).service, 'v2', '*.example.org outranks *.org');
  t.equal((await send(gatewayPort, 'x.example.org', '/elsewhere')).service, 'v1', 'unmatched traffic falls through to the less specific route');
  t.equal((await send(gatewayPort, 'abc.example.net', '/path')).status, 404, 'no listener for the host');
});

t.test('the exact route passes traffic it does not match to the wildcard route', async (t) => {
  const { gatewayPort } = await startScenario(t, [
    GATEWAY_CLASS_YAML,
    `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw, namespace: default }
spec:
  gatewayClassName: weir
  listeners: [{ name: exact, protocol: HTTP, port: {{PORT}}, hostname: abc.example.com }]
`,
    echoServiceYaml('default', 'v1'),
    echoServiceYaml('default', 'v2'),
    route('wc-older', '2026-01-01T00:00:00Z', ['*.example.com'], `    - matches: [{ path: { type: PathPrefix, value: /path/prefix }, headers: [{ name: header-b, value: B }] }]
      backendRefs: [{ name: v1, port: 8080 }]
`),
    route('exact-newer', '2026-01-01T00:00:10Z', ['abc.example.com'], `    - matches: [{ path: { type: PathPrefix, value: /path/prefix }, headers: [{ name: header-a, value: A }] }]
      backendRefs: [{ name: v2, port: 8080 }]
`),
  ].join('---\n'));
  t.equal((await send(gatewayPort, 'abc.example.com', '/path/prefix', { 'header-a': 'A', 'header-b': 'B' })).service, 'v2');
  t.equal((await send(gatewayPort, 'abc.example.com', '/path/prefix', { 'header-b': 'B' })).service, 'v1', 'falls through to the wildcard route');
  t.equal((await send(gatewayPort, 'abc.example.com', '/path/prefix')).status, 404);
});

t.test('identical matches: the first rule wins, also when its backend is invalid (500)', async (t) => {
  const { gatewayPort } = await startScenario(t, [
    GATEWAY_CLASS_YAML,
    `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw, namespace: default }
spec:
  gatewayClassName: weir
  listeners: [{ name: http, protocol: HTTP, port: {{PORT}} }]
`,
    echoServiceYaml('default', 'v1'),
    echoServiceYaml('default', 'v2'),
    route('rule-order', '2026-01-01T00:00:00Z', [], `    - matches: [{ path: { type: Exact, value: /rule-order }, headers: [{ name: x-version, value: one }, { name: x-color, value: blue }] }]
      backendRefs: [{ name: v1, port: 8080 }]
    - matches: [{ path: { type: Exact, value: /rule-order }, headers: [{ name: x-color, value: blue }, { name: x-version, value: one }] }]
      backendRefs: [{ name: v2, port: 8080 }]
`),
    route('rule-order-invalid-backend', '2026-01-01T00:00:00Z', [], `    - matches: [{ path: { type: Exact, value: /rule-order-invalid-backend } }]
      backendRefs: [{ name: nonexistent, port: 8080 }]
    - matches: [{ path: { type: Exact, value: /rule-order-invalid-backend } }]
      backendRefs: [{ name: v2, port: 8080 }]
`),
  ].join('---\n'));
  for (let i = 0; i < 5; i++) t.equal((await send(gatewayPort, 'any.example.com', '/rule-order', { 'x-color': 'blue', 'x-version': 'one' })).service, 'v1');
  t.equal((await send(gatewayPort, 'any.example.com', '/rule-order-invalid-backend')).status, 500);
});

// HTTPRouteBackendURLRewrite through the whole pipeline (standalone: translator → dataplane →
// echo backends), as the v1.7.0 conformance test httproute-backend-url-rewrite asserts, plus a
// rule whose two backends see different rewrites: the backend's own replaces the rule's path
// rewrite and keeps its hostname rewrite.
import t from 'tap';
import { echoServiceYaml, GATEWAY_CLASS_YAML, send, startScenario } from './standalone-fixtures.ts';

t.test('a backendRef URLRewrite rewrites only what is sent to that backend', async (t) => {
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
    `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: backend-url-rewrite, namespace: default }
spec:
  parentRefs: [{ name: gw }]
  rules:
    - matches: [{ path: { type: PathPrefix, value: /full } }]
      backendRefs: [{ name: v1, port: 8080, filters: [{ type: URLRewrite, urlRewrite: { path: { type: ReplaceFullPath, replaceFullPath: /rewritten-full } } }] }]
    - matches: [{ path: { type: PathPrefix, value: /prefix } }]
      backendRefs: [{ name: v1, port: 8080, filters: [{ type: URLRewrite, urlRewrite: { path: { type: ReplacePrefixMatch, replacePrefixMatch: /rewritten-prefix } } }] }]
    - matches: [{ path: { type: PathPrefix, value: /split } }]
      filters: [{ type: URLRewrite, urlRewrite: { hostname: rule.example.com, path: { type: ReplacePrefixMatch, replacePrefixMatch: /rule } } }]
      backendRefs:
        - { name: v1, port: 8080, filters: [{ type: URLRewrite, urlRewrite: { path: { type: ReplacePrefixMatch, replacePrefixMatch: /backend } } }] }
        - { name: v2, port: 8080 }
`,
  ].join('---\n'));

  const full = await send(gatewayPort, 'example.com', '/full/original?x=1');
  t.equal(full.service, 'v1');
  t.equal(full.path, '/rewritten-full?x=1', 'ReplaceFullPath, query kept');
  const prefix = await send(gatewayPort, 'example.com', '/prefix/original');
  t.equal(prefix.path, '/rewritten-prefix/original', 'ReplacePrefixMatch');

  const seen = new Map<string, { path: string; host: string }>();
  for (let i = 0; i < 40 && seen.size < 2; i++) {
    const answer = await send(gatewayPort, 'example.com', '/split/x');
    seen.set(answer.service, { path: answer.path, host: answer.host });
  }
  t.same(seen.get('v1'), { path: '/backend/x', host: 'rule.example.com' }, "v1: its own path rewrite, the rule's hostname rewrite");
  t.same(seen.get('v2'), { path: '/rule/x', host: 'rule.example.com' }, "v2: the rule's rewrite");
});

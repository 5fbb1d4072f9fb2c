// UDPRoute through the whole pipeline (standalone: translator → dataplane → UDP echo backends),
// as the v1.7.0 conformance tests udproute-simple and udproute-multiple-routes-attachment
// assert: the oldest route of a UDP listener gets the traffic and both routes are Accepted; a TCP
// listener on the same port number works alongside.
import { createSocket } from 'node:dgram';
import t from 'tap';
import { echoServiceYaml, GATEWAY_CLASS_YAML, send, startScenario, udpEchoServiceYaml } from './standalone-fixtures.ts';

async function udpExchange(port: number, text: string): Promise<{ request: string; service: string } | undefined> {
  const socket = createSocket('udp4');
  try {
    return await new Promise((resolve) => {
      const timer = setTimeout(() => { resolve(undefined); }, 2_000);
      socket.once('message', (message) => {
        clearTimeout(timer);
        resolve(JSON.parse(message.toString('utf8')) as { request: string; service: string });
      });
      socket.send(text, port, '127.0.0.1');
    });
  } finally {
    socket.close();
  }
}

t.test('a UDPRoute forwards datagrams; the oldest route of a UDP listener wins', async (t) => {
  const { gatewayPort, gatewayUdpPort, printed } = await startScenario(t, [
    GATEWAY_CLASS_YAML,
    `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: udp-gateway, namespace: default }
spec:
  gatewayClassName: weir
  listeners:
    - { name: udp, protocol: UDP, port: {{UDP_PORT}}, allowedRoutes: { kinds: [{ kind: UDPRoute }] } }
    - { name: http, protocol: HTTP, port: {{PORT}} }
`,
    udpEchoServiceYaml('default', 'udp-echo'),
    udpEchoServiceYaml('default', 'udp-echo-2'),
    echoServiceYaml('default', 'web'),
    `apiVersion: gateway.networking.k8s.io/v1
kind: UDPRoute
metadata: { name: udp-older, namespace: default, creationTimestamp: "2026-01-01T00:00:00Z" }
spec:
  parentRefs: [{ name: udp-gateway, sectionName: udp }]
  rules: [{ backendRefs: [{ name: udp-echo, port: 8080 }] }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: UDPRoute
metadata: { name: udp-newer, namespace: default, creationTimestamp: "2026-01-01T00:00:10Z" }
spec:
  parentRefs: [{ name: udp-gateway, sectionName: udp }]
  rules: [{ backendRefs: [{ name: udp-echo-2, port: 8080 }] }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: web, namespace: default }
spec:
  parentRefs: [{ name: udp-gateway, sectionName: http }]
  rules: [{ backendRefs: [{ name: web, port: 8080 }] }]
`,
  ].join('---\n'));

  t.match(printed(), /UDPRoute default\/udp-older\n {2}on Gateway default\/udp-gateway\/udp {2}Accepted=True {2}ResolvedRefs=True/);
  t.match(printed(), /UDPRoute default\/udp-newer\n {2}on Gateway default\/udp-gateway\/udp {2}Accepted=True {2}ResolvedRefs=True/);
  t.match(printed(), /listener udp {2}Accepted=True .* attachedRoutes=2/);
  for (let i = 0; i < 3; i++) {
    const reply = await udpExchange(gatewayUdpPort, 'gateway-api-conformance-udp-echo');
    t.same(reply, { request: 'gateway-api-conformance-udp-echo', service: 'udp-echo', namespace: 'default', pod: 'udp-echo-pod' }, 'the older route serves');
  }
  t.equal((await send(gatewayPort, 'example.com', '/')).service, 'web', 'HTTP on the same Gateway still served');
});

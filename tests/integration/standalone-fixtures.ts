// The whole pipeline in one process for traffic tests of translator behaviour: Gateway API YAML
// (with `{{PORT}}` for the Gateway's TCP port, `{{UDP_PORT}}` for its UDP port, `{{BACKEND:name}}`
// for an HTTP echo backend's port and `{{UDP_BACKEND:name}}` for a UDP echo backend's) → file
// provider → translator → in-process dataplane, with echo backends on loopback.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStandalone, type Standalone } from '../../operator/standalone/standalone.ts';
import type { Tracing } from '../../dataplane/telemetry/tracing.ts';
import { startEcho } from '../harness/echo/server.ts';
import { startUdpEcho } from '../harness/echo/udp.ts';
import { freePorts, freeUdpPorts, type TestContext } from '../harness/index.ts';

export interface Scenario {
  readonly gatewayPort: number;
  readonly gatewayUdpPort: number;
  readonly standalone: Standalone;
  /** The folder standalone reads (files written there are picked up). */
  readonly dir: string;
  /** What standalone printed (statuses, warnings). */
  readonly printed: () => string;
}

const BACKEND = /\{\{BACKEND:([a-z0-9-]+)\}\}/g;
const UDP_BACKEND = /\{\{UDP_BACKEND:([a-z0-9-]+)\}\}/g;

/** A Service named `name` in `namespace` backed by one loopback echo server answering as that Service. */
export function echoServiceYaml(namespace: string, name: string): string {
  return `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: ${namespace} }
spec: { ports: [{ name: http, port: 8080, targetPort: {{BACKEND:${name}}} }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: ${name}-1, namespace: ${namespace}, labels: { kubernetes.io/service-name: ${name} } }
addressType: IPv4
endpoints: [{ addresses: ["127.0.0.1"], conditions: { ready: true } }]
ports: [{ name: http, port: {{BACKEND:${name}}}, protocol: TCP }]
`;
}

/** Like `echoServiceYaml`, for a UDP echo backend on a UDP Service port. */
export function udpEchoServiceYaml(namespace: string, name: string): string {
  return `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: ${namespace} }
spec: { ports: [{ name: udp, protocol: UDP, port: 8080, targetPort: {{UDP_BACKEND:${name}}} }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: ${name}-1, namespace: ${namespace}, labels: { kubernetes.io/service-name: ${name} } }
addressType: IPv4
endpoints: [{ addresses: ["127.0.0.1"], conditions: { ready: true } }]
ports: [{ name: udp, port: {{UDP_BACKEND:${name}}}, protocol: UDP }]
`;
}

export const GATEWAY_CLASS_YAML = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: weir }
spec: { controllerName: weir.dev/gateway-controller }
`;

export async function startScenario(t: TestContext, yaml: string, options: { tracing?: Tracing } = {}): Promise<Scenario> {
  const names = [...new Set([...yaml.matchAll(BACKEND)].map((match) => match[1] as string))];
  const udpNames = [...new Set([...yaml.matchAll(UDP_BACKEND)].map((match) => match[1] as string))];
  const [gatewayPort, ...backendPorts] = (await freePorts(names.length + 1)) as [number, ...number[]];
  const [gatewayUdpPort, ...udpBackendPorts] = (await freeUdpPorts(udpNames.length + 1)) as [number, ...number[]];
  const portOf = new Map(names.map((name, i) => [name, backendPorts[i] as number]));
  const udpPortOf = new Map(udpNames.map((name, i) => [name, udpBackendPorts[i] as number]));
  const text = yaml
    .replaceAll('{{PORT}}', String(gatewayPort))
    .replaceAll('{{UDP_PORT}}', String(gatewayUdpPort))
    .replace(BACKEND, (_match, name: string) => String(portOf.get(name)))
    .replace(UDP_BACKEND, (_match, name: string) => String(udpPortOf.get(name)));
  const dir = mkdtempSync(join(tmpdir(), 'weir-scenario-'));
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }); });
  writeFileSync(join(dir, 'scenario.yaml'), text);
  for (const [name, port] of portOf) {
    const echo = await startEcho({ host: '127.0.0.1', httpPort: port, h2cPort: false, namespace: 'default', service: name, pod: `${name}-pod`, log: () => undefined });
    t.teardown(() => echo.close());
  }
  for (const [name, port] of udpPortOf) {
    const echo = await startUdpEcho({ port, service: name });
    t.teardown(() => echo.close());
  }
  let printed = '';
  const standalone = await startStandalone({ paths: [dir], print: (line) => { printed += line; }, ...options });
  t.teardown(() => standalone.stop());
  return { gatewayPort, gatewayUdpPort, standalone, dir, printed: () => printed };
}

export interface EchoAnswer {
  readonly status: number;
  /** The echo backend's service name, or '' when the answer did not come from a backend. */
  readonly service: string;
  readonly path: string;
  readonly host: string;
  readonly headers: Readonly<Record<string, string[]>>;
}

/** One HTTP/1.1 request with the given Host; the echo backend's JSON read back when there is one. */
export async function send(port: number, host: string, path: string, headers: Record<string, string> = {}): Promise<EchoAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host, ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => {
        let echo: { service?: string; path?: string; host?: string; headers?: Record<string, string[]> } = {};
        try {
          echo = JSON.parse(body) as typeof echo;
        } catch {
          // not from an echo backend
        }
        resolve({ status: res.statusCode ?? 0, service: echo.service ?? '', path: echo.path ?? '', host: echo.host ?? '', headers: echo.headers ?? {} });
      });
    });
    req.on('error', reject).end();
  });
}

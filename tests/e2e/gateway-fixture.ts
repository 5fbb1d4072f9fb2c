// One Gateway with an HTTPRoute to an echo backend, serving: the setup the load tests share.
import { poll } from '../harness/wait.ts';
import { apply, echoBackends, programmedAddress, waitForDeployment } from './cluster.ts';
import { request } from 'undici';

export interface ServingGateway {
  readonly address: string;
  readonly host: string;
  readonly url: string;
  /** The dataplane Deployment the operator provisioned for the Gateway. */
  readonly deployment: string;
}

export async function servingGateway(namespace: string, name: string): Promise<ServingGateway> {
  const host = `${name}.e2e.test`;
  await apply(echoBackends(namespace, ['echo'], 2));
  await apply(`
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  gatewayClassName: weir
  listeners: [{ name: http, protocol: HTTP, port: 80 }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  parentRefs: [{ name: ${name} }]
  hostnames: ["${host}"]
  rules: [{ backendRefs: [{ name: echo, port: 8080 }] }]
`);
  await waitForDeployment(namespace, 'echo');
  const address = await programmedAddress(namespace, name);
  const url = `http://${address}/`;
  await poll(
    async () => {
      const response = await request(url, { headers: { host } });
      await response.body.dump();
      return response.statusCode === 200 ? true : undefined;
    },
    { what: `${url} (Host ${host}) to answer 200`, timeoutMs: 60_000, intervalMs: 200 },
  );
  return { address, host, url, deployment: `weir-${name}` };
}

// HTTPS with a certificate from a Secret, and mTLS (frontend client-certificate validation)
// with the client's identity forwarded in x-forwarded-client-cert, from the host through the
// Gateway's LoadBalancer address.
import { request as httpsRequest } from 'node:https';
import t from 'tap';
import { createCertificateAuthority, type IssuedCertificate } from '../harness/pki.ts';
import { poll } from '../harness/wait.ts';
import { apply, echoBackends, programmedAddress, testNamespace, useCluster, waitForDeployment } from './cluster.ts';

useCluster(t);
const namespace = 'e2e-tls';
const host = 'secure.e2e.test';

interface EchoWithHeaders {
  readonly pod: string;
  readonly headers: Readonly<Record<string, readonly string[]>>;
}

function indent(pem: string, spaces: number): string {
  return pem
    .trim()
    .split('\n')
    .map((line) => `${' '.repeat(spaces)}${line}`)
    .join('\n');
}

interface Answer {
  readonly status: number;
  readonly body: string;
}

function get(address: string, ca: string, client: IssuedCertificate | undefined, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: address,
        port: 443,
        path: '/',
        servername: host,
        headers: { host, ...headers },
        ca,
        agent: false,
        ...(client === undefined ? {} : { cert: client.chainPem, key: client.keyPem }),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

t.test('HTTPS and mTLS with XFCC through the LoadBalancer address', async (t) => {
  await testNamespace(t, namespace);
  const serverCa = await createCertificateAuthority({ commonName: 'e2e-server-ca' });
  const clientCa = await createCertificateAuthority({ commonName: 'e2e-client-ca' });
  const strangerCa = await createCertificateAuthority({ commonName: 'e2e-stranger-ca' });
  const serverCert = await serverCa.issueServer({ commonName: host, dnsNames: [host] });
  const alice = await clientCa.issueClient({ commonName: 'alice', organizations: ['Acme'], uris: ['spiffe://acme/alice'] });
  const mallory = await strangerCa.issueClient({ commonName: 'mallory' });

  await apply(echoBackends(namespace, ['echo']));
  await apply(`
apiVersion: v1
kind: Secret
metadata: { name: secure-cert, namespace: ${namespace} }
type: kubernetes.io/tls
stringData:
  tls.crt: |
${indent(serverCert.chainPem, 4)}
  tls.key: |
${indent(serverCert.keyPem, 4)}
---
apiVersion: v1
kind: ConfigMap
metadata: { name: client-ca, namespace: ${namespace} }
data:
  ca.crt: |
${indent(clientCa.certPem, 4)}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: secure, namespace: ${namespace} }
spec:
  gatewayClassName: weir
  listeners:
    - name: https
      protocol: HTTPS
      port: 443
      hostname: ${host}
      tls: { mode: Terminate, certificateRefs: [{ name: secure-cert }] }
  tls:
    frontend:
      default:
        validation: { caCertificateRefs: [{ group: "", kind: ConfigMap, name: client-ca }] }
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: secure, namespace: ${namespace} }
spec:
  parentRefs: [{ name: secure }]
  hostnames: ["${host}"]
  rules: [{ backendRefs: [{ name: echo, port: 8080 }] }]
`);
  await waitForDeployment(namespace, 'echo');
  const address = await programmedAddress(namespace, 'secure');

  const answer = await poll(
    async () => {
      const result = await get(address, serverCa.certPem, alice, { 'x-forwarded-client-cert': 'By=spiffe://forged;Subject="CN=admin"' });
      return result.status === 200 ? result : undefined;
    },
    { what: `https://${address} (SNI ${host}) with alice's certificate to answer 200`, timeoutMs: 90_000, intervalMs: 500 },
  );
  const echo = JSON.parse(answer.body) as EchoWithHeaders;
  const xfcc = (echo.headers['X-Forwarded-Client-Cert'] ?? []).join(',');
  t.match(xfcc, /Hash=[0-9a-f]{64}/, 'XFCC carries the client certificate hash');
  t.match(xfcc, /Subject="[^"]*CN=alice/, "XFCC carries alice's subject");
  t.match(xfcc, /URI=spiffe:\/\/acme\/alice/, "XFCC carries alice's URI SAN");
  t.notMatch(xfcc, /forged|CN=admin/, 'the XFCC the client sent was replaced, not forwarded');

  await t.rejects(get(address, serverCa.certPem, undefined), 'a client without a certificate is refused');
  await t.rejects(get(address, serverCa.certPem, mallory), 'a certificate from another CA is refused');
  await t.rejects(get(address, strangerCa.certPem, alice), 'the served certificate is the Secret, which the stranger CA did not sign');
});

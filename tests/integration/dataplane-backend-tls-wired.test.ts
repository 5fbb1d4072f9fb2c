// TLS towards backends through a whole dataplane (BackendTLSPolicy + Gateway.spec.tls.backend):
// CA validation, SNI, SAN validation (Hostname and URI), the Gateway's client certificate
// (backend mTLS), HTTP/1.1 and h2 over TLS. A backend whose certificate fails validation, or
// that refuses the gateway's connection, is answered 502: the endpoint was reached, but no
// trustworthy HTTP exchange was possible — a gateway error, not a missing endpoint (503).
import { once } from 'node:events';
import { createServer as createHttpsServer } from 'node:https';
import { createSecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import t from 'tap';
import type { BackendTls, Cluster, DataplaneConfig } from '../../api-types/dataplane-config.ts';
import { freePorts, redis, redisClient } from '../harness/index.ts';
import { createCertificateAuthority } from '../harness/pki.ts';
import { action, dataplaneConfig, httpClient, newGateway, publish, published, rule, startDataplane, waitForVersion } from './dataplane-fixtures.ts';

const backendCa = await createCertificateAuthority({ commonName: 'backend-ca' });
const gatewayCa = await createCertificateAuthority({ commonName: 'gateway-client-ca' });
const backendCert = await backendCa.issueServer({ commonName: 'backend', dnsNames: ['backend.example.test'], uris: ['spiffe://test/backend'] });
const gatewayClient = await gatewayCa.issueClient({ commonName: 'weir-gateway' });

/** What the backends answer: who connected (the client certificate's CN), the SNI name asked for, and the HTTP version. */
function describe(socket: unknown, httpVersion: string): string {
  const tlsSocket = socket as Partial<TLSSocket> | undefined;
  const peer = tlsSocket?.getPeerX509Certificate?.();
  return JSON.stringify({ client: peer?.subject ?? null, sni: tlsSocket?.servername ?? null, version: httpVersion });
}

async function listen(server: import('node:net').Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => { server.close(); });
  return (server.address() as AddressInfo).port;
}

const serverTls = { cert: backendCert.chainPem, key: backendCert.keyPem, ca: gatewayCa.certPem, requestCert: true, rejectUnauthorized: true };

t.test('backend TLS: validation, SNI, SANs, client certificate, h2', async (t) => {
  const https1Port = await listen(createHttpsServer(serverTls, (req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(describe(req.socket, req.httpVersion));
  }));
  const h2Server = createSecureServer({ ...serverTls, allowHTTP1: false }, (req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(describe(req.stream.session?.socket, req.httpVersion));
  });
  const h2Port = await listen(h2Server);
  const { url } = await redis();
  const client = await redisClient(t);
  const [port] = (await freePorts(1)) as [number];
  const gateway = newGateway();
  const dataplane = await startDataplane(t, url, gateway);

  const tls = (extra: Partial<BackendTls> = {}): BackendTls => ({ hostname: 'backend.example.test', caBundle: 0, subjectAltNames: [], clientCertificate: 0, ...extra });
  const cluster = (id: string, protocol: Cluster['protocol'], backendPort: number, settings: BackendTls): Cluster => ({
    id,
    backend: { kind: 'Service', namespace: 'test', name: id },
    protocol,
    tls: settings,
    endpoints: [{ address: '127.0.0.1', port: backendPort, ready: true }],
  });
  const routes: [string, Cluster][] = [
    ['/ok', cluster('ok', 'http1', https1Port, tls())],
    ['/h2', cluster('h2', 'h2', h2Port, tls())],
    ['/san-uri', cluster('san-uri', 'http1', https1Port, tls({ subjectAltNames: [{ type: 'URI', value: 'spiffe://test/backend' }] }))],
    ['/san-mismatch', cluster('san-mismatch', 'http1', https1Port, tls({ subjectAltNames: [{ type: 'Hostname', value: 'other.example.test' }] }))],
    ['/wrong-hostname', cluster('wrong-hostname', 'http1', https1Port, tls({ hostname: 'other.example.test' }))],
    ['/untrusted', cluster('untrusted', 'http1', https1Port, tls({ caBundle: 1 }))],
    ['/no-client-cert', cluster('no-client-cert', 'http1', https1Port, { hostname: 'backend.example.test', caBundle: 0, subjectAltNames: [] })],
  ];
  const config: DataplaneConfig = {
    ...dataplaneConfig(gateway, {
      listeners: [{ id: 'test/gw/http', port, protocol: 'HTTP', rules: routes.map(([path], i) => rule(i, { path: { type: 'Exact', value: path } })) }],
      actions: routes.map(([, c]) => action(c.id, c.id)),
      clusters: routes.map(([, c]) => c),
    }),
    certificates: [{ certPem: gatewayClient.chainPem, keyPem: gatewayClient.keyPem, dnsNames: [] }],
    caBundles: [backendCa.certPem, gatewayCa.certPem],
  };
  await publish(client, gateway, published(config, 1));
  await waitForVersion(dataplane, 1);
  const get = httpClient(t);

  const ok = await get(port, '/ok', { host: 'gw.example.test' });
  t.equal(ok.status, 200);
  t.same(JSON.parse(ok.text), { client: 'CN=weir-gateway', sni: 'backend.example.test', version: '1.1' }, 'mTLS to the backend with the gateway certificate, SNI from the policy');
  const otherHost = await get(port, '/ok', { host: 'other-host.example.test' });
  t.equal((JSON.parse(otherHost.text) as { sni: string }).sni, 'backend.example.test', "the SNI is the policy's hostname whatever the request's Host");
  const h2 = await get(port, '/h2', { host: 'gw.example.test' });
  t.equal(h2.status, 200);
  t.same(JSON.parse(h2.text), { client: 'CN=weir-gateway', sni: 'backend.example.test', version: '2.0' }, 'HTTP/2 over TLS (ALPN h2)');
  t.equal((await get(port, '/san-uri', { host: 'gw.example.test' })).status, 200, 'URI SAN accepted');
  t.equal((await get(port, '/san-mismatch', { host: 'gw.example.test' })).status, 502, 'no listed SAN on the certificate');
  t.equal((await get(port, '/wrong-hostname', { host: 'gw.example.test' })).status, 502, 'certificate does not match the hostname');
  t.equal((await get(port, '/untrusted', { host: 'gw.example.test' })).status, 502, 'certificate not signed by the CA bundle');
  t.equal((await get(port, '/no-client-cert', { host: 'gw.example.test' })).status, 502, 'backend requires a client certificate');
});

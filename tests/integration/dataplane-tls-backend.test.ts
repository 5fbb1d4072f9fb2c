// TLS to backends through undici with the options backend.ts builds: CA validation, SNI,
// SAN validation (Hostname and URI), mismatch rejection, and the Gateway's client certificate.
import { once } from 'node:events';
import { createServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import t from 'tap';
import { Agent, request } from 'undici';
import type { BackendTls, Certificate } from '../../api-types/dataplane-config.ts';
import { backendTlsOptions } from '../../dataplane/tls/backend.ts';
import { createCertificateAuthority } from '../harness/pki.ts';

const serverCa = await createCertificateAuthority({ commonName: 'backend-ca' });
const otherCa = await createCertificateAuthority({ commonName: 'other-ca' });
const clientCa = await createCertificateAuthority({ commonName: 'gateway-client-ca' });
const serverCert = await serverCa.issueServer({ commonName: 'backend', dnsNames: ['backend.svc.test', '*.pods.test'], uris: ['spiffe://cluster/ns/app/sa/backend'] });
const gatewayClient = await clientCa.issueClient({ commonName: 'gateway', uris: ['spiffe://cluster/gateway'] });

const certificates: Certificate[] = [{ certPem: gatewayClient.chainPem, keyPem: gatewayClient.keyPem, dnsNames: [] }];
const caBundles = [serverCa.certPem, otherCa.certPem];

const server = createServer({ cert: serverCert.chainPem, key: serverCert.keyPem, ca: clientCa.certPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
  const socket = req.socket as Partial<TLSSocket>;
  res.end(JSON.stringify({ sni: socket.servername, client: socket.getPeerX509Certificate?.()?.subject ?? null }));
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
t.teardown(() => { server.close(); });
const origin = `https://127.0.0.1:${String((server.address() as { port: number }).port)}`;

async function call(tls: BackendTls): Promise<{ sni: string; client: string | null }> {
  const agent = new Agent({ connect: backendTlsOptions(tls, { certificates, caBundles }) });
  try {
    const response = await request(origin, { dispatcher: agent });
    return (await response.body.json()) as { sni: string; client: string | null };
  } finally {
    await agent.close();
  }
}

const base: BackendTls = { hostname: 'backend.svc.test', caBundle: 0, subjectAltNames: [], clientCertificate: 0 };

t.test('CA, SNI and the gateway client certificate', async (t) => {
  t.same(await call(base), { sni: 'backend.svc.test', client: 'CN=gateway' });
});

t.test('SAN validation', async (t) => {
  t.same((await call({ ...base, hostname: 'x.pods.test' })).sni, 'x.pods.test', 'wildcard SAN covers the hostname');
  t.ok(await call({ ...base, subjectAltNames: [{ type: 'URI', value: 'spiffe://cluster/ns/app/sa/backend' }] }), 'URI SAN');
  t.ok(await call({ ...base, subjectAltNames: [{ type: 'Hostname', value: 'nope.test' }, { type: 'Hostname', value: 'a.pods.test' }] }), 'any listed SAN is enough');
  await t.rejects(call({ ...base, hostname: 'wrong.svc.test' }), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }, 'hostname mismatch');
  await t.rejects(call({ ...base, subjectAltNames: [{ type: 'URI', value: 'spiffe://cluster/ns/app/sa/other' }] }), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }, 'URI mismatch');
  await t.rejects(call({ ...base, subjectAltNames: [{ type: 'Hostname', value: 'other.svc.test' }] }), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }, 'Hostname SAN mismatch');
});

t.test('untrusted server and missing client certificate are rejected', async (t) => {
  await t.rejects(call({ ...base, caBundle: 1 }), 'server certificate from a CA not in the bundle');
  await t.rejects(call({ ...base, caBundle: undefined }), 'system store does not trust a private CA');
  const { clientCertificate: _unused, ...withoutClient } = base;
  await t.rejects(call(withoutClient), 'backend requires mTLS');
});

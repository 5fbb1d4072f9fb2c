// Client-certificate settings and TLS policy changed at config swap time, on a live port:
// switching open → AllowValidOnly accepts valid certificates at once (no restart), a CA
// rotation or mode switch ends the connections validated under the old settings, and the TLS
// policy (ECDHE + AEAD on TLS 1.2 by default, per Gateway) applies to new handshakes.
import { once } from 'node:events';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import t from 'tap';
import type { DataplaneConfig, FrontendValidation, TlsPolicy } from '../../api-types/dataplane-config.ts';
import { createCertificateAuthority, freePort } from '../harness/index.ts';
import { action, dataplaneConfig, echoCluster, newGateway, rule } from '../integration/dataplane-fixtures.ts';
import { h2request, h2session, rawExchange, sessionClosedWithin, startGateway } from './support-request.ts';

const port = await freePort();
const ca = await createCertificateAuthority({ commonName: 'swap-test-ca' });
const oldClientCa = await createCertificateAuthority({ commonName: 'old-client-ca' });
const newClientCa = await createCertificateAuthority({ commonName: 'new-client-ca' });
const server = await ca.issueServer({ commonName: 'gateway', dnsNames: ['a.test'] });
const alice = await oldClientCa.issueClient({ commonName: 'alice' });
const bob = await newClientCa.issueClient({ commonName: 'bob' });
const gateway = await startGateway(t);
const gatewayRef = newGateway();

function config(validation?: FrontendValidation, tlsPolicy?: TlsPolicy): DataplaneConfig {
  return {
    ...dataplaneConfig(gatewayRef, {
      listeners: [{ id: 'gw/https', port, protocol: 'HTTPS', hostname: 'a.test', certificates: [0], ...(validation === undefined ? {} : { frontendValidation: validation }), rules: [rule(0)] }],
      actions: [action('echo', 'echo')],
      clusters: [echoCluster('echo', [gateway.echo])],
    }),
    certificates: [{ certPem: server.chainPem, keyPem: server.keyPem, dnsNames: ['a.test'] }],
    caBundles: [oldClientCa.certPem, newClientCa.certPem],
    ...(tlsPolicy === undefined ? {} : { tlsPolicy }),
  };
}

const trust = { servername: 'a.test', ca: ca.certPem };
const as = (client: { chainPem: string; keyPem: string }): ConnectionOptions => ({ ...trust, cert: client.chainPem, key: client.keyPem });

async function status(options: ConnectionOptions): Promise<number | 'refused'> {
  try {
    const answer = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: a.test\r\n\r\n', { tls: options });
    return answer.statuses[0] ?? 'refused';
  } catch {
    return 'refused';
  }
}

/** Whether a TLS handshake with these options completes (and the server keeps the connection). */
async function handshakes(options: ConnectionOptions): Promise<boolean> {
  const socket = tlsConnect({ host: '127.0.0.1', port, ...trust, ...options });
  try {
    return await new Promise<boolean>((resolve) => {
      socket.once('secureConnect', () => { resolve(true); });
      socket.once('error', () => { resolve(false); });
      socket.once('close', () => { resolve(false); });
    });
  } finally {
    socket.destroy();
  }
}

t.test('open → AllowValidOnly on a live port: valid certificates accepted at once, old connections ended', async (t) => {
  await gateway.apply(config());
  t.equal(await status(trust), 200, 'open: no certificate needed');
  const before = await h2session(t, `https://127.0.0.1:${port}`, trust);
  t.equal((await h2request(before, { ':authority': 'a.test' })).status, 200);
  const idleHttp1 = tlsConnect({ host: '127.0.0.1', port, ...trust, ALPNProtocols: ['http/1.1'] });
  idleHttp1.on('error', () => undefined);
  await once(idleHttp1, 'secureConnect');
  const idleClosed = once(idleHttp1, 'close');

  await gateway.apply(config({ caBundle: 0, mode: 'AllowValidOnly' }));
  t.equal(await status(as(alice)), 200, 'a valid certificate works without a restart');
  t.equal(await status(trust), 'refused', 'no certificate: refused');
  t.equal(await status(as(bob)), 'refused', 'a certificate from another CA: refused');
  t.ok(await sessionClosedWithin(before, 2_000), 'the HTTP/2 session opened without a certificate got GOAWAY');
  await idleClosed;
  t.pass('the idle HTTP/1.1 connection opened without a certificate was closed');
});

t.test('CA rotation: connections validated with the old CA end, the new CA is enforced', async (t) => {
  await gateway.apply(config({ caBundle: 0, mode: 'AllowValidOnly' }));
  const aliceSession = await h2session(t, `https://127.0.0.1:${port}`, as(alice));
  t.equal((await h2request(aliceSession, { ':authority': 'a.test' })).status, 200);
  await gateway.apply(config({ caBundle: 1, mode: 'AllowValidOnly' }));
  t.ok(await sessionClosedWithin(aliceSession, 2_000), 'alice (old CA) session ended on a single-listener port');
  t.equal(await status(as(alice)), 'refused', 'alice cannot reconnect');
  t.equal(await status(as(bob)), 200, 'bob (new CA) can');
});

t.test('AllowValidOnly → AllowInsecureFallback: certificate-less clients admitted at once', async (t) => {
  await gateway.apply(config({ caBundle: 1, mode: 'AllowValidOnly' }));
  t.equal(await status(trust), 'refused');
  await gateway.apply(config({ caBundle: 1, mode: 'AllowInsecureFallback' }));
  t.equal(await status(trust), 200);
});

const cbc = 'ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:AES128-SHA:AES128-GCM-SHA256';
const aead = 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256';

t.test('TLS policy: ECDHE + AEAD only on TLS 1.2 by default, configurable per Gateway', async (t) => {
  await gateway.apply(config());
  t.notOk(await handshakes({ maxVersion: 'TLSv1.2', ciphers: cbc }), 'CBC and static-RSA suites on TLS 1.2: refused');
  t.ok(await handshakes({ maxVersion: 'TLSv1.2', ciphers: aead }), 'ECDHE + GCM on TLS 1.2: accepted');
  t.ok(await handshakes({ minVersion: 'TLSv1.3' }), 'TLS 1.3: accepted');
  t.notOk(await handshakes({ maxVersion: 'TLSv1.1', minVersion: 'TLSv1' }), 'TLS 1.1: refused');

  await gateway.apply(config(undefined, { minVersion: 'TLSv1.3', cipherSuites: ['ECDHE-ECDSA-AES128-GCM-SHA256'] }));
  t.notOk(await handshakes({ maxVersion: 'TLSv1.2', ciphers: aead }), 'minVersion TLSv1.3: TLS 1.2 refused after the swap');
  t.ok(await handshakes({ minVersion: 'TLSv1.3' }));

  await gateway.apply(config(undefined, { minVersion: 'TLSv1.2', cipherSuites: ['ECDHE-ECDSA-AES128-SHA'] }));
  t.ok(await handshakes({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA' }), 'a Gateway may allow a legacy suite explicitly');
  t.notOk(await handshakes({ maxVersion: 'TLSv1.2', ciphers: aead }), 'and then only what it lists');
});

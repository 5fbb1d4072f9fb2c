// Proves the harness PKI makes certificates that real TLS stacks accept, and reject for the
// right reasons: SANs, chains through intermediates, client certificates, expiry, key usage.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type SecureContextOptions, type TLSSocket } from 'node:tls';
import t from 'tap';
import { createCertificateAuthority, createSelfSignedCertificate, type IssuedCertificate, type TestContext } from '../harness/index.ts';

interface ServerOptions {
  readonly cert: IssuedCertificate;
  /** CA that client certificates must chain to; enables mTLS. */
  readonly clientCa?: string;
}

/** A TLS server on 127.0.0.1 that reports the client certificate's CN, closed at t's end. */
async function tlsServer(t: TestContext, options: ServerOptions): Promise<number> {
  const server = createServer(
    {
      cert: options.cert.chainPem,
      key: options.cert.keyPem,
      ...(options.clientCa === undefined ? {} : { ca: options.clientCa, requestCert: true, rejectUnauthorized: true }),
    },
    (socket) => {
      const peer = socket.getPeerCertificate();
      socket.end(`hello ${typeof peer.subject === 'object' ? String(peer.subject.CN) : 'anonymous'}`);
    },
  );
  server.on('tlsClientError', () => undefined);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  return (server.address() as AddressInfo).port;
}

/**
 * Connects and returns what the server said before closing; rejects with the client's TLS
 * error (e.g. the server's certificate failed verification).
 */
async function handshake(port: number, options: SecureContextOptions & { servername?: string }): Promise<string> {
  const socket: TLSSocket = connect({ host: '127.0.0.1', port, servername: 'localhost', ...options });
  socket.setEncoding('utf8');
  let data = '';
  socket.on('data', (chunk: string) => {
    data += chunk;
  });
  await once(socket, 'close');
  return data;
}

t.test('a server certificate verifies against its CA by DNS and IP SANs', async (t) => {
  const ca = await createCertificateAuthority();
  const port = await tlsServer(t, { cert: await ca.issueServer({ commonName: 'srv', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] }) });
  t.equal(await handshake(port, { ca: ca.certPem }), 'hello anonymous');
  await t.rejects(handshake(port, { ca: ca.certPem, servername: 'other.example.com' }), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  const stranger = await createCertificateAuthority({ commonName: 'stranger' });
  await t.rejects(handshake(port, { ca: stranger.certPem }), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
});

t.test('a chain through an intermediate verifies against the root alone', async (t) => {
  const root = await createCertificateAuthority({ keyAlgorithm: 'ecdsa-p384' });
  const intermediate = await root.issueIntermediate();
  const leaf = await intermediate.issueServer({ commonName: 'srv', dnsNames: ['localhost'], keyAlgorithm: 'rsa-2048' });
  t.equal(leaf.chainPem, leaf.certPem + intermediate.certPem);
  t.equal(leaf.x509.checkIssued(intermediate.x509), true);
  const port = await tlsServer(t, { cert: leaf });
  t.equal(await handshake(port, { ca: root.certPem }), 'hello anonymous');
});

t.test('mutual TLS accepts client certificates from the CA only', async (t) => {
  const ca = await createCertificateAuthority();
  const port = await tlsServer(t, {
    cert: await ca.issueServer({ commonName: 'srv', dnsNames: ['localhost'] }),
    clientCa: ca.certPem,
  });
  const client = await ca.issueClient({ commonName: 'alice', organizations: ['team-a'], uris: ['spiffe://weir.test/alice'] });
  t.match(client.x509.subjectAltName, 'URI:spiffe://weir.test/alice');
  t.equal(await handshake(port, { ca: ca.certPem, cert: client.certPem, key: client.keyPem }), 'hello alice');

  const selfSigned = await createSelfSignedCertificate({ commonName: 'mallory', usage: 'client' });
  // Refused clients see a TLS alert or just a close, depending on timing; never the greeting.
  const refused = (options: SecureContextOptions): Promise<string> => handshake(port, { ca: ca.certPem, ...options }).catch(() => '');
  t.equal(await refused({ cert: selfSigned.certPem, key: selfSigned.keyPem }), '', 'self-signed client is refused');
  t.equal(await refused({}), '', 'no client certificate is refused');
});

t.test('expiry and key usage are enforced', async (t) => {
  const ca = await createCertificateAuthority();
  const expired = await ca.issueServer({
    commonName: 'old',
    dnsNames: ['localhost'],
    notBefore: new Date(Date.now() - 2 * 86_400_000),
    notAfter: new Date(Date.now() - 86_400_000),
  });
  await t.rejects(handshake(await tlsServer(t, { cert: expired }), { ca: ca.certPem }), { code: 'CERT_HAS_EXPIRED' });

  const clientOnly = await ca.issueClient({ commonName: 'not-a-server', dnsNames: ['localhost'] });
  await t.rejects(handshake(await tlsServer(t, { cert: clientOnly }), { ca: ca.certPem }), { code: 'INVALID_PURPOSE' });
});

// Forged forwarding and client-certificate headers, on every HTTP listener kind (HTTP/1.1,
// h2c, HTTPS with HTTP/1.1 and HTTP/2): what the backend receives about the client comes from
// the dataplane only, including the underscore spellings that CGI-style servers read as the
// same header, unless the hop in front is trusted (trustedProxyHops).
import t, { type Test } from 'tap';
import type { DataplaneConfig } from '../../api-types/dataplane-config.ts';
import { createCertificateAuthority, freePorts } from '../harness/index.ts';
import { action, dataplaneConfig, echoCluster, newGateway, rule } from '../integration/dataplane-fixtures.ts';
import { echoOf, h2request, h2session, rawExchange, startGateway } from './support-request.ts';

const [plainPort, tlsPort] = (await freePorts(2)) as [number, number];
const ca = await createCertificateAuthority({ commonName: 'headers-test-ca' });
const server = await ca.issueServer({ commonName: 'gateway', dnsNames: ['a.test'] });
const gateway = await startGateway(t);

function config(trustedProxyHops: number): DataplaneConfig {
  return {
    ...dataplaneConfig(newGateway(), {
      listeners: [
        { id: 'gw/http', port: plainPort, protocol: 'HTTP', rules: [rule(0)] },
        { id: 'gw/https', port: tlsPort, protocol: 'HTTPS', certificates: [0], rules: [rule(0)] },
      ],
      actions: [action('echo', 'echo')],
      clusters: [echoCluster('echo', [gateway.echo])],
      trustedProxyHops,
    }),
    certificates: [{ certPem: server.chainPem, keyPem: server.keyPem, dnsNames: ['a.test'] }],
    xfcc: { mode: 'SanitizeSet', subject: true, cert: false, chain: false, uri: false, dns: false },
  };
}

const forged: Record<string, string> = {
  'x-forwarded-for': '10.0.0.1',
  'x-forwarded-proto': 'https',
  'x-forwarded-host': 'admin.internal',
  'x-forwarded-port': '8443',
  'x-request-id': 'forged-id',
  'x-real-ip': '10.0.0.2',
  forwarded: 'for=10.0.0.3;proto=https;host=admin.internal',
  'x-forwarded-client-cert': 'By=spiffe://evil;Hash=00;Subject="CN=admin"',
  'x_forwarded_client_cert': 'By=spiffe://evil;Hash=00;Subject="CN=admin"',
  'x_forwarded_for': '10.0.0.4',
  'x_real_ip': '10.0.0.5',
  'x-custom': 'kept',
};

type Received = Record<string, string[]>;

async function viaHttp1(port: number, tls: boolean): Promise<Received> {
  const lines = Object.entries(forged).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  const answer = await rawExchange(port, `GET / HTTP/1.1\r\nHost: a.test\r\n${lines}\r\n`, tls ? { tls: { servername: 'a.test', ca: ca.certPem } } : {});
  return echoOf(answer.text)?.headers ?? {};
}

async function viaHttp2(t: Test, url: string): Promise<Received> {
  const session = await h2session(t, url, { servername: 'a.test', ca: ca.certPem });
  const answer = await h2request(session, { ':authority': 'a.test', ...forged });
  session.close();
  return (JSON.parse(answer.body) as { headers: Received }).headers;
}

function assertSanitised(t: Test, headers: Received, scheme: string, kind: string): void {
  t.same(headers['X-Forwarded-For'], ['127.0.0.1'], `${kind}: X-Forwarded-For is the socket's address`);
  t.same(headers['X-Forwarded-Proto'], [scheme], `${kind}: X-Forwarded-Proto`);
  t.same(headers['X-Forwarded-Host'], ['a.test'], `${kind}: X-Forwarded-Host`);
  t.not(headers['X-Request-Id']?.[0], 'forged-id', `${kind}: X-Request-Id generated`);
  for (const name of ['X-Real-Ip', 'Forwarded', 'X-Forwarded-Port', 'X-Forwarded-Client-Cert', 'X_forwarded_client_cert', 'X_forwarded_for', 'X_real_ip']) {
    t.equal(headers[name], undefined, `${kind}: ${name} removed`);
  }
  t.same(headers['X-Custom'], ['kept'], `${kind}: other headers pass`);
}

t.test('untrusted front: every forged fact about the client is replaced or removed', async (t) => {
  await gateway.apply(config(0));
  assertSanitised(t, await viaHttp1(plainPort, false), 'http', 'HTTP/1.1');
  assertSanitised(t, await viaHttp2(t, `http://127.0.0.1:${plainPort}`), 'http', 'h2c');
  assertSanitised(t, await viaHttp1(tlsPort, true), 'https', 'HTTPS HTTP/1.1');
  assertSanitised(t, await viaHttp2(t, `https://127.0.0.1:${tlsPort}`), 'https', 'HTTPS HTTP/2');
});

t.test('trusted front: forwarding headers are kept and appended to; underscore aliases and XFCC still are not', async (t) => {
  await gateway.apply(config(1));
  const headers = await viaHttp1(plainPort, false);
  t.same(headers['X-Forwarded-For'], ['10.0.0.1, 127.0.0.1']);
  t.same(headers.Forwarded, [forged.forwarded]);
  t.same(headers['X-Real-Ip'], ['10.0.0.2']);
  t.same(headers['X-Request-Id'], ['forged-id']);
  for (const name of ['X-Forwarded-Client-Cert', 'X_forwarded_client_cert', 'X_forwarded_for', 'X_real_ip']) t.equal(headers[name], undefined, `${name} removed`);
});

// Host, :authority and SNI disagreements, over HTTP/1.1 and HTTP/2, on a TLS port whose
// listeners come from a Gateway (AllowValidOnly client certificates) and from a ListenerSet
// (no validation), and on a cleartext port: one host per request, 400 when the request names
// two, 421 when the host is not the connection's listener. No combination reaches the
// validated listener's routes without a valid client certificate.
import t from 'tap';
import type { DataplaneConfig, Xfcc } from '../../api-types/dataplane-config.ts';
import { createCertificateAuthority, freePorts } from '../harness/index.ts';
import { action, dataplaneConfig, echoCluster, newGateway, rule } from '../integration/dataplane-fixtures.ts';
import { echoOf, h2request, h2session, rawExchange, startGateway } from './support-request.ts';

const [tlsPort, plainPort] = (await freePorts(2)) as [number, number];
const ca = await createCertificateAuthority({ commonName: 'authority-test-ca' });
const clientCa = await createCertificateAuthority({ commonName: 'authority-client-ca' });
const server = await ca.issueServer({ commonName: 'gateway', dnsNames: ['secure.test', 'open.test'] });
const alice = await clientCa.issueClient({ commonName: 'alice' });
const gateway = await startGateway(t);
const tag = (name: string): ReturnType<typeof action> => action(name, 'echo', { requestHeaders: { set: [{ name: 'x-route', value: name }], add: [], remove: [] } });
const xfcc: Xfcc = { mode: 'SanitizeSet', subject: true, cert: false, chain: false, uri: false, dns: false };

const config: DataplaneConfig = {
  ...dataplaneConfig(newGateway(), {
    listeners: [
      { id: 'test/gw/secure', port: tlsPort, hostname: 'secure.test', protocol: 'HTTPS', certificates: [0], frontendValidation: { caBundle: 0, mode: 'AllowValidOnly' }, rules: [rule(0)] },
      { id: 'ListenerSet/test/extra/open', port: tlsPort, hostname: 'open.test', protocol: 'HTTPS', certificates: [0], rules: [rule(1)] },
      { id: 'test/gw/a', port: plainPort, hostname: 'a.test', protocol: 'HTTP', rules: [rule(2)] },
      { id: 'test/gw/b', port: plainPort, hostname: 'b.test', protocol: 'HTTP', rules: [rule(3)] },
    ],
    actions: [tag('secure'), tag('open'), tag('plain-a'), tag('plain-b')],
    clusters: [echoCluster('echo', [gateway.echo])],
  }),
  certificates: [{ certPem: server.chainPem, keyPem: server.keyPem, dnsNames: ['secure.test', 'open.test'] }],
  caBundles: [clientCa.certPem],
  xfcc,
};
await gateway.apply(config);

const trust = { ca: ca.certPem };

/** The connection was dropped (during or right after the handshake) without any HTTP answer. */
async function refused(exchange: ReturnType<typeof rawExchange>): Promise<boolean> {
  try {
    const answer = await exchange;
    return answer.statuses.length === 0 && answer.closed;
  } catch {
    return true;
  }
}
const withCert = { ...trust, cert: alice.chainPem, key: alice.keyPem };
const http1 = (servername: string, host: string, extra: object = {}): ReturnType<typeof rawExchange> =>
  rawExchange(tlsPort, `GET /x HTTP/1.1\r\nHost: ${host}\r\nX-Forwarded-Client-Cert: By=forged;Hash=00\r\n\r\n`, { tls: { servername, ...trust, ...extra } });

t.test('HTTP/1.1 on a connection made for the ListenerSet listener (no client certificate)', async (t) => {
  const open = await http1('open.test', 'open.test');
  t.same(open.statuses, [200]);
  t.equal(echoOf(open.text)?.headers['X-Route']?.[0], 'open');
  t.notOk(echoOf(open.text)?.headers['X-Forwarded-Client-Cert'], 'forged XFCC removed');
  t.same((await http1('open.test', 'OPEN.test.:443')).statuses, [200], 'case, trailing dot and port do not matter');
  t.same((await http1('open.test', 'secure.test')).statuses, [421], 'the validated listener: misdirected');
  t.same((await http1('open.test', 'unknown.test')).statuses, [421], 'a host no listener serves: misdirected');
  const twoHosts = await rawExchange(tlsPort, 'GET /x HTTP/1.1\r\nHost: open.test\r\nHost: secure.test\r\n\r\n', { tls: { servername: 'open.test', ...trust } });
  t.same(twoHosts.statuses, [400]);
  t.ok(twoHosts.closed);
});

t.test('the validated listener refuses the handshake without a valid certificate, by SNI or by default', async (t) => {
  t.ok(await refused(http1('secure.test', 'secure.test')), 'SNI secure.test, no certificate');
  t.ok(await refused(rawExchange(tlsPort, 'GET / HTTP/1.1\r\nHost: secure.test\r\n\r\n', { tls: trust })), 'no SNI falls back to the first listener, which validates');
  const ok = await http1('secure.test', 'secure.test', withCert);
  t.same(ok.statuses, [200]);
  t.equal(echoOf(ok.text)?.headers['X-Route']?.[0], 'secure');
  t.match(echoOf(ok.text)?.headers['X-Forwarded-Client-Cert']?.[0], /^Hash=[0-9a-f]{64};Subject="CN=alice"$/, 'identity from the handshake, forged value replaced');
  t.same((await http1('secure.test', 'open.test', withCert)).statuses, [421], 'and the validated connection cannot be used for the other listener either');
});

t.test('HTTP/2: :authority wins, a conflicting host is malformed, coalescing cannot cross listeners', async (t) => {
  const session = await h2session(t, `https://127.0.0.1:${tlsPort}`, { servername: 'open.test', ...trust });
  const route = (body: string): string | undefined => (JSON.parse(body) as { headers: Record<string, string[]> }).headers['X-Route']?.[0];
  const open = await h2request(session, { ':authority': 'open.test' });
  t.equal(open.status, 200);
  t.equal(route(open.body), 'open');
  t.equal((await h2request(session, { ':authority': 'secure.test' })).status, 421, ':authority of the validated listener');
  t.equal((await h2request(session, { ':authority': 'open.test', host: 'secure.test' })).status, 400, 'host disagrees with :authority (the old bypass)');
  t.equal((await h2request(session, { ':authority': 'secure.test', host: 'open.test' })).status, 400, 'and the other way round');
  t.equal((await h2request(session, { ':authority': 'open.test', host: 'open.test' })).status, 200, 'host equal to :authority is fine');
  t.equal((await h2request(session, { ':authority': 'unknown.test' })).status, 421, 'no listener serves it');
  await t.rejects(h2request(session, { ':authority': 'alice@secure.test' }), { code: 'ERR_HTTP2_STREAM_ERROR' }, 'userinfo in :authority: the stream is reset as malformed');
  t.equal((await h2request(session, { ':authority': 'open.test', 'x_forwarded_client_cert': 'Hash=00' })).status, 200);
  t.equal(route((await h2request(session, { ':authority': 'open.test' })).body), 'open', 'the session is still usable after the refusals');
});

t.test('cleartext port: HTTP/1.1 and h2c pick one host the same way', async (t) => {
  const a = await rawExchange(plainPort, 'GET / HTTP/1.1\r\nHost: a.test\r\n\r\n');
  t.equal(echoOf(a.text)?.headers['X-Route']?.[0], 'plain-a');
  t.same((await rawExchange(plainPort, 'GET / HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\n\r\n')).statuses, [400]);
  t.same((await rawExchange(plainPort, 'GET / HTTP/1.1\r\nHost: nowhere.test\r\n\r\n')).statuses, [404], 'no TLS, no misdirection: just no route');
  const session = await h2session(t, `http://127.0.0.1:${plainPort}`);
  t.equal((await h2request(session, { ':authority': 'a.test', host: 'b.test' })).status, 400);
  const b = await h2request(session, { ':authority': 'b.test' });
  t.equal((JSON.parse(b.body) as { headers: Record<string, string[]> }).headers['X-Route']?.[0], 'plain-b');
  t.same((await rawExchange(tlsPort, 'GET / HTTP/1.1\r\nHost: open.test\r\n\r\n', { waitMs: 1_000 })).statuses, [], 'cleartext bytes on the TLS port get no HTTP answer');
});

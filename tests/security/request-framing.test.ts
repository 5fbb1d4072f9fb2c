// HTTP/1.1 framing attacks against a running dataplane, over raw sockets: every ambiguous or
// malformed message gets a 400 and a closed connection, nothing reaches the backend, and the
// bytes after a rejected message are never read as a second request (no smuggling).
import t from 'tap';
import { freePort } from '../harness/index.ts';
import { action, dataplaneConfig, echoCluster, newGateway, rule } from '../integration/dataplane-fixtures.ts';
import { echoOf, rawExchange, startGateway } from './support-request.ts';

const port = await freePort();
const gateway = await startGateway(t);
await gateway.apply(dataplaneConfig(newGateway(), {
  listeners: [{ id: 'gw/http', port, protocol: 'HTTP', rules: [rule(0)] }],
  actions: [action('echo', 'echo')],
  clusters: [echoCluster('echo', [gateway.echo])],
}));

const smuggled = 'GET /smuggled HTTP/1.1\r\nHost: a.test\r\n\r\n';

const malformed: [string, string][] = [
  ['Content-Length and Transfer-Encoding together', `POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`],
  ['two different Content-Length values', `POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 3\r\nContent-Length: 40\r\n\r\nabc${smuggled}`],
  ['Content-Length list with different values', `POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 3, 40\r\n\r\nabc${smuggled}`],
  ['Transfer-Encoding whose final coding is not chunked', `POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${smuggled}`],
  ['Transfer-Encoding with an unknown coding', `POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n${smuggled}`],
  ['whitespace between field name and colon', `POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding : chunked\r\nContent-Length: 3\r\n\r\nabc${smuggled}`],
  ['obs-fold (RFC 9112 §5.2)', `GET / HTTP/1.1\r\nHost: a.test\r\nX-Folded: one\r\n two\r\n\r\n`],
  ['bare LF line endings', `GET / HTTP/1.1\nHost: a.test\n\n`],
  ['bare CR inside a field value', `GET / HTTP/1.1\r\nHost: a.test\r\nX-Bad: a\rb\r\n\r\n`],
  ['NUL in a field value', `GET / HTTP/1.1\r\nHost: a.test\r\nX-Bad: a\0b\r\n\r\n`],
  ['bad chunk size', `POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n`],
  ['two Host fields (RFC 9112 §3.2)', `GET / HTTP/1.1\r\nHost: a.test\r\nHost: admin.test\r\n\r\n`],
  ['two Host fields, same value', `GET / HTTP/1.1\r\nHost: a.test\r\nhost: a.test\r\n\r\n`],
  ['no Host in HTTP/1.1', `GET / HTTP/1.1\r\nX-Other: 1\r\n\r\n`],
  ['Host with userinfo', `GET / HTTP/1.1\r\nHost: user@a.test\r\n\r\n`],
  ['Host with a path', `GET / HTTP/1.1\r\nHost: a.test/admin\r\n\r\n`],
  ['Host with a non-numeric port', `GET / HTTP/1.1\r\nHost: a.test:80x\r\n\r\n`],
  ['absolute-form target naming another host', `GET http://admin.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n`],
  ['asterisk-form on GET', `GET * HTTP/1.1\r\nHost: a.test\r\n\r\n`],
  ['space inside the target', `GET /a b HTTP/1.1\r\nHost: a.test\r\n\r\n`],
  ['a fragment in the target', `GET /public#/../admin HTTP/1.1\r\nHost: a.test\r\n\r\n`],
];

t.test('malformed or ambiguous HTTP/1.1 messages: 400, connection closed, nothing smuggled', async (t) => {
  for (const [name, bytes] of malformed) {
    const before = gateway.echo.requests;
    const answer = await rawExchange(port, bytes);
    t.same(answer.statuses, [400], `${name}: exactly one answer, 400`);
    t.ok(answer.closed, `${name}: connection closed`);
    t.equal(gateway.echo.requests, before, `${name}: nothing reached the backend`);
  }
});

t.test('a well-formed request on the same port still works, with keep-alive', async (t) => {
  const answer = await rawExchange(port, `GET /ok HTTP/1.1\r\nHost: a.test\r\n\r\nGET /again HTTP/1.1\r\nHost: a.test\r\n\r\n`);
  t.same(answer.statuses, [200, 200]);
  t.notOk(answer.closed, 'kept alive');
  t.equal(echoOf(answer.text)?.path, '/ok');
});

t.test('chunked body with a smuggling attempt inside is a body, not a request', async (t) => {
  const before = gateway.echo.requests;
  const body = `${smuggled.length.toString(16)}\r\n${smuggled}\r\n0\r\n\r\n`;
  const answer = await rawExchange(port, `POST /upload HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n${body}`);
  t.same(answer.statuses, [200]);
  t.equal(gateway.echo.requests, before + 1, 'one request reached the backend');
  t.notMatch(answer.text, /\/smuggled/);
});

t.test('Expect: 100-continue gets 100 then the backend answer, not 502', async (t) => {
  const answer = await rawExchange(port, `POST /expect HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello`);
  t.same(answer.statuses, [100, 200]);
  t.equal(echoOf(answer.text)?.path, '/expect');
  const other = await rawExchange(port, `POST /expect HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5\r\nExpect: something-else\r\n\r\nhello`);
  t.same(other.statuses, [417], 'an expectation we cannot meet: 417');
});

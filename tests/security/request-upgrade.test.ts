// Upgrade abuse: only WebSocket is tunnelled (an h2c or unknown Upgrade is served as an ordinary
// request, so a client can never speak HTTP/2 straight to a backend past the routing), the
// upgrade request goes through the same decision as any request (normalised path, 404, 421,
// sanitised headers), and a silent tunnel is closed after the idle timeout.
import { once } from 'node:events';
import t from 'tap';
import { WebSocket } from 'ws';
import { freePort } from '../harness/index.ts';
import { action, dataplaneConfig, echoCluster, newGateway, rule } from '../integration/dataplane-fixtures.ts';
import { echoOf, rawExchange, startGateway } from './support-request.ts';

const port = await freePort();
const gateway = await startGateway(t);
await gateway.apply({
  ...dataplaneConfig(newGateway(), {
    listeners: [{ id: 'gw/http', port, protocol: 'HTTP', rules: [rule(0, { path: { type: 'PathPrefix', value: '/ws' } }), rule(0, { path: { type: 'PathPrefix', value: '/plain' } })] }],
    actions: [action('echo', 'echo')],
    clusters: [echoCluster('echo', [gateway.echo])],
  }),
  limits: { tunnelIdleTimeoutMs: 1_000 },
});

async function openSocket(path: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers: { host: 'a.test', ...headers } });
  t.teardown(() => { socket.terminate(); });
  await once(socket, 'open');
  return socket;
}

t.test('h2c and unknown Upgrade tokens are not tunnelled: the request is served as HTTP/1.1', async (t) => {
  for (const upgrade of ['h2c', 'foo/1', 'TLS/1.2']) {
    const answer = await rawExchange(port, `GET /plain HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: ${upgrade}\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n`);
    t.same(answer.statuses, [200], `${upgrade}: an ordinary answer, no 101`);
    const headers = echoOf(answer.text)?.headers ?? {};
    t.equal(headers.Upgrade, undefined, `${upgrade}: Upgrade not forwarded`);
    t.equal(headers['Http2-Settings'], undefined, `${upgrade}: HTTP2-Settings not forwarded`);
  }
});

t.test('WebSocket works, on the normalised path, with forged headers removed', async (t) => {
  const socket = await openSocket('/plain/../ws', { 'x-forwarded-client-cert': 'Hash=00', 'x_forwarded_for': '10.0.0.1' });
  socket.send('hello');
  const [message] = (await once(socket, 'message')) as [Buffer];
  t.equal(message.toString(), 'hello');
  t.match(gateway.echo.logLines.at(-1), /request made to \/ws /, 'the backend saw /ws');
  socket.close();
});

t.test('a WebSocket upgrade gets the same refusals as any request', async (t) => {
  const notFound = await rawExchange(port, 'GET /nothing HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
  t.same(notFound.statuses, [404]);
  t.ok(notFound.closed, 'connection closed after refusing an upgrade');
  const unsafe = await rawExchange(port, 'GET /ws/%2f HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
  t.same(unsafe.statuses, [400]);
  const twoHosts = await rawExchange(port, 'GET /ws HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
  t.same(twoHosts.statuses, [400]);
});

t.test('a silent tunnel is closed after the idle timeout; a busy one is not', async (t) => {
  const busy = await openSocket('/ws');
  const idle = await openSocket('/ws');
  const idleClosed = once(idle, 'close');
  const started = Date.now();
  // Never waits on a closed socket: a message or a close ends each tick.
  for (let i = 0; i < 8 && busy.readyState === WebSocket.OPEN; i++) {
    busy.send(`tick ${i}`);
    await Promise.race([once(busy, 'message'), once(busy, 'close')]);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  t.equal(busy.readyState, WebSocket.OPEN, 'busy tunnel still open after 1.6 s of traffic');
  await idleClosed;
  t.ok(Date.now() - started < 5_000, 'idle tunnel closed');
  busy.close();
});

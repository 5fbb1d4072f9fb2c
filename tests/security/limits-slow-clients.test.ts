// Slow and hoarding clients on a plain HTTP port (HTTP/1.1 and h2c share it): every kind of
// slowloris gets a clean 408 or a closed connection within its deadline, the connection cap
// holds against a thousand half-sent requests, and an unrelated client keeps being served.
import t from 'tap';
import { freePorts, poll } from '../harness/index.ts';
import { counterValue, drip, httpListener, latencyProbe, oneRequest, rawClient, serveWithLimits } from './limits-fixtures.ts';

const HEADERS_TIMEOUT_MS = 400;
const REQUEST_TIMEOUT_MS = 1_200;
const IDLE_TIMEOUT_MS = 500;
// node:http keeps an idle socket open this much longer than the Keep-Alive timeout it announces,
// so a client never sends on a connection the server is closing.
const KEEP_ALIVE_BUFFER_MS = 1_000;
// node:http checks deadlines every quarter of the shortest one: allow that, plus scheduling slack.
const SLACK_MS = 600;

const limits = { headersTimeoutMs: HEADERS_TIMEOUT_MS, requestReceiveTimeoutMs: REQUEST_TIMEOUT_MS, idleTimeoutMs: IDLE_TIMEOUT_MS };

t.test('HTTP/1.1 slowloris variants end in 408 and a closed connection; others are not slowed', async (t) => {
  const [port] = (await freePorts(1)) as [number];
  const { dataplane } = await serveWithLimits(t, limits, () => ({ listeners: [httpListener(port)] }));
  t.match(await oneRequest(port, 'GET /warm HTTP/1.1\r\nhost: warm.example.test\r\nconnection: close\r\n\r\n'), /^HTTP\/1\.1 200 /, 'served before the attack');
  const probe = latencyProbe(port);

  // Headers one byte every 100 ms, never finished.
  const dripping = await rawClient(port);
  drip(dripping.socket, `GET / HTTP/1.1\r\nhost: slow.example.test\r\nx-filler: ${'a'.repeat(200)}\r\n`, 100);
  // One byte, then silence.
  const silent = await rawClient(port);
  silent.socket.write('G');
  // Complete headers, then a body one byte every 100 ms (content-length says 1000).
  const slowBody = await rawClient(port);
  slowBody.socket.write('POST /upload HTTP/1.1\r\nhost: slow.example.test\r\ncontent-length: 1000\r\n\r\n');
  drip(slowBody.socket, 'x'.repeat(1000), 100);

  const drippingMs = await dripping.closed;
  t.match(dripping.received(), /^HTTP\/1\.1 408 Request Timeout\r\n/, 'dripped headers: 408');
  t.ok(drippingMs < HEADERS_TIMEOUT_MS + SLACK_MS, `closed after ${Math.round(drippingMs)} ms`);
  const silentMs = await silent.closed;
  t.match(silent.received(), /^HTTP\/1\.1 408 Request Timeout\r\n/, 'one byte then silence: 408');
  t.ok(silentMs < HEADERS_TIMEOUT_MS + SLACK_MS, `closed after ${Math.round(silentMs)} ms`);
  const slowBodyMs = await slowBody.closed;
  t.match(slowBody.received(), /^HTTP\/1\.1 408 Request Timeout\r\n/, 'a body slower than the request timeout: 408');
  t.ok(slowBodyMs >= REQUEST_TIMEOUT_MS - 50 && slowBodyMs < REQUEST_TIMEOUT_MS + SLACK_MS, `closed after ${Math.round(slowBodyMs)} ms`);

  const { worstMs, count, failures } = await probe.stop();
  t.same(failures, [], 'every probe request was answered 200');
  t.ok(count >= 10, `${count} probe requests`);
  t.ok(worstMs < 1_000, `the worst probe latency during the attack was ${Math.round(worstMs)} ms`);
  t.equal(await counterValue(dataplane, 'weir_client_connections_closed_total', { port: String(port), reason: 'request_timeout' }), 3, 'all three counted');
});

t.test('a connection that never says a word is closed at the headers deadline without an answer', async (t) => {
  const [port] = (await freePorts(1)) as [number];
  const { dataplane } = await serveWithLimits(t, limits, () => ({ listeners: [httpListener(port)] }));
  const mute = await rawClient(port);
  const mutedMs = await mute.closed;
  t.equal(mute.received(), '', 'nothing was sent back');
  t.ok(mutedMs >= HEADERS_TIMEOUT_MS - 50 && mutedMs < HEADERS_TIMEOUT_MS + SLACK_MS, `closed after ${Math.round(mutedMs)} ms`);
  // A slow h2c preface: the first 16 of its 24 bytes, then nothing.
  const h2c = await rawClient(port);
  h2c.socket.write('PRI * HTTP/2.0\r\n');
  const h2cMs = await h2c.closed;
  t.equal(h2c.received(), '', 'a stalled h2c preface gets no answer');
  t.ok(h2cMs < HEADERS_TIMEOUT_MS + SLACK_MS, `closed after ${Math.round(h2cMs)} ms`);
  t.equal(await counterValue(dataplane, 'weir_client_connections_closed_total', { port: String(port), reason: 'headers_timeout' }), 2);
});

t.test('an idle keep-alive connection is closed after the idle timeout', async (t) => {
  const [port] = (await freePorts(1)) as [number];
  await serveWithLimits(t, limits, () => ({ listeners: [httpListener(port)] }));
  const client = await rawClient(port);
  client.socket.write('GET /once HTTP/1.1\r\nhost: idle.example.test\r\n\r\n');
  const closedMs = await client.closed;
  t.match(client.received(), /^HTTP\/1\.1 200 OK\r\n/, 'the request was answered');
  t.ok(closedMs >= IDLE_TIMEOUT_MS - 50 && closedMs < IDLE_TIMEOUT_MS + KEEP_ALIVE_BUFFER_MS + SLACK_MS, `then closed after ${Math.round(closedMs)} ms`);
});

t.test('header floods get 431 and a closed connection', async (t) => {
  const [port] = (await freePorts(1)) as [number];
  const { dataplane } = await serveWithLimits(t, limits, () => ({ listeners: [httpListener(port)] }));
  const oneHuge = await oneRequest(port, `GET / HTTP/1.1\r\nhost: flood.example.test\r\nx-big: ${'b'.repeat(20_000)}\r\n\r\n`);
  t.match(oneHuge, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/, 'one 20 kB header');
  let many = 'GET / HTTP/1.1\r\nhost: flood.example.test\r\n';
  for (let i = 0; i < 3_000; i++) many += `x-${i}: v\r\n`;
  t.match(await oneRequest(port, `${many}\r\n`), /^HTTP\/1\.1 431 /, '3,000 small headers');
  t.match(await oneRequest(port, 'GET / HTTP/1.1\r\nhost: flood.example.test\r\n\r\n'), /^HTTP\/1\.1 200 /, 'a normal request still works');
  t.equal(await counterValue(dataplane, 'weir_client_connections_closed_total', { port: String(port), reason: 'header_overflow' }), 2);
});

t.test('a thousand half-sent requests against a cap of 100: the rest are refused, the cap frees up after the deadline', async (t) => {
  const [port] = (await freePorts(1)) as [number];
  const cap = 100;
  const headersTimeoutMs = 2_000;
  const { dataplane } = await serveWithLimits(t, { ...limits, headersTimeoutMs, requestReceiveTimeoutMs: headersTimeoutMs, maxConnections: cap }, () => ({ listeners: [httpListener(port)] }));
  const attackers = await Promise.all(Array.from({ length: 1_000 }, async () => {
    const client = await rawClient(port);
    client.socket.write('GET / HTTP/1.1\r\nhost: hoard.example.test\r\n');
    return client;
  }));
  t.teardown(() => { for (const attacker of attackers) attacker.socket.destroy(); });
  const refusals = (): Promise<number> => counterValue(dataplane, 'weir_client_connections_closed_total', { port: String(port), reason: 'max_connections' });
  await poll(async () => ((await refusals()) >= 1_000 - cap ? true : undefined), { what: 'refusals counted', timeoutMs: 2_000, intervalMs: 20 });
  t.equal(await refusals(), 1_000 - cap, 'exactly the connections over the cap were refused, and counted');
  const held = attackers.filter((attacker) => !attacker.socket.destroyed && !attacker.socket.readableEnded);
  t.ok(held.length <= cap, `${held.length} connections held (cap ${cap})`);
  t.ok(attackers.every((attacker) => attacker.received() === ''), 'nobody got an answer yet');
  // The held ones hit the headers deadline and get 408; after that the port serves again.
  await Promise.all(attackers.map((attacker) => attacker.closed));
  t.ok(held.every((attacker) => attacker.received().startsWith('HTTP/1.1 408 ')), 'the held ones were answered 408');
  const answer = await poll(async () => {
    const text = await oneRequest(port, 'GET / HTTP/1.1\r\nhost: after.example.test\r\nconnection: close\r\n\r\n').catch(() => '');
    return text.startsWith('HTTP/1.1 200 ') ? text : undefined;
  }, { what: 'the port to serve again', timeoutMs: 2_000, intervalMs: 50 });
  t.match(answer, /^HTTP\/1\.1 200 /, 'served once the hoarders are gone');
});

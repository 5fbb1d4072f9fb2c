// The ClientHello SNI parser against real ClientHellos (captured from Node's TLS client), every
// truncation, records split differently, and corrupted or hostile input.
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { connect } from 'node:tls';
import t from 'tap';
import { MAX_CLIENT_HELLO_BYTES, parseClientHello } from '../../dataplane/stream/client-hello.ts';

/** The first flight of a TLS client with the given SNI (undefined: none). */
async function captureHello(servername: string | undefined): Promise<Buffer> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const accepted = once(server, 'connection');
  const client = connect({ host: '127.0.0.1', port, ...(servername === undefined ? {} : { servername }), rejectUnauthorized: false });
  client.on('error', () => undefined);
  const [socket] = (await accepted) as [import('node:net').Socket];
  const [data] = (await once(socket, 'data')) as [Buffer];
  socket.destroy();
  client.destroy();
  server.close();
  return data;
}

/** Re-frames a single-record ClientHello into records of at most `size` handshake bytes. */
function reframe(hello: Buffer, size: number): Buffer {
  const body = hello.subarray(5, 5 + hello.readUInt16BE(3));
  const records: Buffer[] = [];
  for (let at = 0; at < body.length; at += size) {
    const part = body.subarray(at, at + size);
    const header = Buffer.from([0x16, 0x03, 0x01, part.length >> 8, part.length & 0xff]);
    records.push(header, part);
  }
  return Buffer.concat(records);
}

const hello = await captureHello('Api.Example.TEST');
const noSni = await captureHello(undefined);

t.test('real ClientHellos', (t) => {
  t.same(parseClientHello(hello), { kind: 'hello', serverName: 'api.example.test' }, 'name lower-cased');
  t.same(parseClientHello(noSni), { kind: 'hello', serverName: undefined });
  t.same(parseClientHello(Buffer.concat([hello, Buffer.from('trailing application bytes')])), { kind: 'hello', serverName: 'api.example.test' });
  t.end();
});

t.test('every truncation is incomplete, never a wrong answer', (t) => {
  let wrong = 0;
  for (let length = 0; length < hello.length; length++) {
    if (parseClientHello(hello.subarray(0, length)).kind !== 'incomplete') wrong++;
  }
  t.equal(wrong, 0);
  t.end();
});

t.test('a ClientHello split over several records', (t) => {
  for (const size of [1, 7, 100, 512]) {
    const split = reframe(hello, size);
    t.same(parseClientHello(split), { kind: 'hello', serverName: 'api.example.test' }, `records of ${size} bytes`);
    let wrong = 0;
    for (let length = 0; length < split.length; length += Math.max(1, Math.floor(split.length / 200))) {
      if (parseClientHello(split.subarray(0, length)).kind !== 'incomplete') wrong++;
    }
    t.equal(wrong, 0, `truncations of the ${size}-byte framing`);
  }
  t.end();
});

t.test('hostile input is refused, never thrown on', (t) => {
  t.match(parseClientHello(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')), { kind: 'invalid' });
  t.match(parseClientHello(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x00])), { kind: 'invalid' }, 'empty record');
  t.match(parseClientHello(Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff])), { kind: 'invalid' }, 'oversized record');
  t.match(parseClientHello(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x04, 0x02, 0, 0, 0])), { kind: 'invalid' }, 'ServerHello');
  t.match(parseClientHello(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0xff, 0xff, 0xff])), { kind: 'invalid' }, 'ClientHello claiming 16 MB');
  const bigName = Buffer.from(hello);
  const nameAt = bigName.indexOf('Api.Example.TEST');
  bigName.write('Api\0Example.TEST', nameAt, 'latin1');
  t.match(parseClientHello(bigName), { kind: 'invalid' }, 'NUL in the server name');
  const dotted = Buffer.from(hello);
  dotted.write('Api..xample.TEST', nameAt, 'latin1');
  t.match(parseClientHello(dotted), { kind: 'invalid' }, 'empty label');

  // Many small records that never complete: stays bounded (the caller stops reading at the cap).
  const crawl = reframe(hello, 1).subarray(0, 6 * 4);
  t.equal(parseClientHello(crawl).kind, 'incomplete');
  t.ok(MAX_CLIENT_HELLO_BYTES >= 16384);

  let seed = 7;
  const random = (): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31; };
  let threw = 0;
  for (let i = 0; i < 5000; i++) {
    const copy = Buffer.from(i % 2 === 0 ? hello : reframe(hello, 50));
    const flips = 1 + Math.floor(random() * 6);
    for (let f = 0; f < flips; f++) copy[5 + Math.floor(random() * (copy.length - 5))] = Math.floor(random() * 256);
    try {
      const result = parseClientHello(copy.subarray(0, Math.floor(random() * copy.length) + 1));
      if (result.kind === 'hello' && result.serverName !== undefined && !/^[a-z0-9_.-]+$/.test(result.serverName)) threw++;
    } catch {
      threw++;
    }
  }
  t.equal(threw, 0, 'fuzzed input: no exception, no malformed name');
  t.end();
});

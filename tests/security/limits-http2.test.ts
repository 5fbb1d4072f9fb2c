// HTTP/2 abuse over h2c, written frame by frame (a real client library would refuse to
// misbehave): the advertised stream limit, stream floods beyond it, rapid reset, and header
// lists over the limit. Each case checks what reached the backend and that an unrelated client
// is still served.
import t from 'tap';
import { freePorts } from '../harness/index.ts';
import { counterValue, httpListener, latencyProbe, oneRequest, rawClient, serveWithLimits, type RawClient } from './limits-fixtures.ts';

const PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';
const FRAME = { HEADERS: 0x1, RST_STREAM: 0x3, SETTINGS: 0x4, GOAWAY: 0x7 } as const;
const ERROR = { REFUSED_STREAM: 0x7, CANCEL: 0x8, ENHANCE_YOUR_CALM: 0xb } as const;
const SETTINGS_MAX_CONCURRENT_STREAMS = 0x3;

function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream, 5);
  return Buffer.concat([head, payload]);
}

/** HPACK literal (never indexed, new name) of one header; names and values under 127 bytes. */
function literal(name: string, value: string): Buffer {
  return Buffer.concat([Buffer.from([0x10, name.length]), Buffer.from(name), Buffer.from([value.length]), Buffer.from(value)]);
}

/** A GET request's HEADERS frame (END_STREAM | END_HEADERS): static-table :method GET, :scheme http. */
function getRequest(stream: number, path: string, extra: Buffer[] = []): Buffer {
  const block = Buffer.concat([Buffer.from([0x82, 0x86]), literal(':path', path), literal(':authority', 'h2.example.test'), ...extra]);
  return frame(FRAME.HEADERS, 0x5, stream, block);
}

function rstStream(stream: number, code: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(code);
  return frame(FRAME.RST_STREAM, 0, stream, payload);
}

interface Frame { type: number; flags: number; stream: number; payload: Buffer }

/** Every complete frame the server sent so far. */
function framesOf(client: RawClient): Frame[] {
  const data = Buffer.from(client.received(), 'latin1');
  const frames: Frame[] = [];
  for (let offset = 0; offset + 9 <= data.length;) {
    const length = data.readUIntBE(offset, 3);
    if (offset + 9 + length > data.length) break;
    frames.push({ type: data[offset + 3] ?? 0, flags: data[offset + 4] ?? 0, stream: data.readUInt32BE(offset + 5) & 0x7fffffff, payload: data.subarray(offset + 9, offset + 9 + length) });
    offset += 9 + length;
  }
  return frames;
}

async function h2cClient(port: number): Promise<RawClient> {
  const client = await rawClient(port);
  client.socket.write(Buffer.concat([Buffer.from(PREFACE, 'latin1'), frame(FRAME.SETTINGS, 0, 0)]));
  return client;
}

function advertisedMaxStreams(frames: Frame[]): number | undefined {
  const settings = frames.find((f) => f.type === FRAME.SETTINGS && (f.flags & 0x1) === 0);
  if (settings === undefined) return undefined;
  for (let i = 0; i + 6 <= settings.payload.length; i += 6) {
    if (settings.payload.readUInt16BE(i) === SETTINGS_MAX_CONCURRENT_STREAMS) return settings.payload.readUInt32BE(i + 2);
  }
  return undefined;
}

const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

t.test('the stream limit is advertised and streams beyond it are refused before reaching the backend', async (t) => {
  const [port] = (await freePorts(1)) as [number];
  const { echo } = await serveWithLimits(t, { http2MaxConcurrentStreams: 10 }, () => ({ listeners: [httpListener(port)] }));
  const client = await h2cClient(port);
  t.teardown(() => client.socket.destroy());
  await wait(100);
  t.equal(advertisedMaxStreams(framesOf(client)), 10, 'SETTINGS_MAX_CONCURRENT_STREAMS is 10');
  const probe = latencyProbe(port);
  const floods: Buffer[] = [];
  for (let i = 0; i < 50; i++) floods.push(getRequest(1 + 2 * i, '/flood?delay=500ms'));
  client.socket.write(Buffer.concat(floods));
  await wait(300);
  const refused = framesOf(client).filter((f) => f.type === FRAME.RST_STREAM && f.payload.readUInt32BE(0) === ERROR.REFUSED_STREAM);
  t.equal(refused.length, 40, 'the 40 streams over the limit were refused (RST_STREAM REFUSED_STREAM)');
  t.equal(echo.logLines.filter((line) => line.includes('/flood')).length, 10, 'only 10 reached the backend');
  const { failures, worstMs } = await probe.stop();
  t.same(failures, []);
  t.ok(worstMs < 1_000, `an unrelated client waited at most ${Math.round(worstMs)} ms`);
});

t.test('rapid reset: a client that cancels every stream it opens loses its connection (GOAWAY ENHANCE_YOUR_CALM)', async (t) => {
  const [port] = (await freePorts(1)) as [number];
  const { dataplane, echo } = await serveWithLimits(t, {}, () => ({ listeners: [httpListener(port)] }));
  const client = await h2cClient(port);
  const probe = latencyProbe(port);
  const burst: Buffer[] = [];
  for (let i = 0; i < 1_000; i++) burst.push(getRequest(1 + 2 * i, '/reset?delay=1s'), rstStream(1 + 2 * i, ERROR.CANCEL));
  client.socket.write(Buffer.concat(burst));
  const closedMs = await client.closed;
  const goaways = framesOf(client).filter((f) => f.type === FRAME.GOAWAY);
  const goaway = goaways[0];
  t.ok(goaway !== undefined, `the server sent GOAWAY and closed after ${Math.round(closedMs)} ms`);
  t.equal(goaway?.payload.readUInt32BE(4), ERROR.ENHANCE_YOUR_CALM, `with ENHANCE_YOUR_CALM (codes ${goaways.map((f) => f.payload.readUInt32BE(4)).join(',')})`);
  const lastStream = (goaway?.payload.readUInt32BE(0) ?? 0) & 0x7fffffff;
  t.ok(lastStream < 2 * 1_000, `the session ended at stream ${lastStream}, before the burst was through`);
  await wait(200);
  const reached = echo.logLines.filter((line) => line.includes('/reset')).length;
  t.ok(reached <= 250, `${reached} of 1000 reset streams reached the backend`);
  t.equal(await counterValue(dataplane, 'weir_client_connections_closed_total', { port: String(port), reason: 'rapid_reset' }), 1, 'counted once');
  const { failures } = await probe.stop();
  t.same(failures, [], 'an unrelated client was served throughout');
});

t.test('a header list over the limit is refused without reaching the backend', async (t) => {
  const [port] = (await freePorts(1)) as [number];
  const { echo } = await serveWithLimits(t, {}, () => ({ listeners: [httpListener(port)] }));
  const client = await h2cClient(port);
  t.teardown(() => client.socket.destroy());
  const many: Buffer[] = [];
  for (let i = 0; i < 300; i++) many.push(literal(`x-h${i}`, 'v'));
  client.socket.write(getRequest(1, '/too-many-headers', many));
  client.socket.write(getRequest(3, '/fine'));
  await wait(300);
  const frames = framesOf(client);
  const answeredFirst = frames.some((f) => f.stream === 1 && f.type === FRAME.HEADERS);
  t.notOk(answeredFirst, 'the stream with 300 headers got no response headers');
  t.ok(frames.some((f) => (f.stream === 1 && f.type === FRAME.RST_STREAM) || f.type === FRAME.GOAWAY), 'it was reset (or the session ended)');
  t.equal(echo.logLines.filter((line) => line.includes('/too-many-headers')).length, 0, 'nothing reached the backend');
  t.match(await oneRequest(port, 'GET / HTTP/1.1\r\nhost: after.example.test\r\nconnection: close\r\n\r\n'), /^HTTP\/1\.1 200 /, 'the port still serves');
});

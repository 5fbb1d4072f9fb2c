// Upstream fan-out: one endpoint gets at most backendMaxConnections connections and
// backendMaxPendingRequests queued requests; what does not fit is answered 503 at once and
// counted, and the backend never sees more connections than the cap.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import t from 'tap';
import type { Cluster } from '../../api-types/dataplane-config.ts';
import { freePorts } from '../harness/index.ts';
import { counterValue, httpListener, oneRequest, serveWithLimits } from './limits-fixtures.ts';

t.test('connections and queue to one endpoint are bounded; overflow is a prompt, counted 503', async (t) => {
  // A backend that holds every request for 600 ms and records its open connections.
  let open = 0;
  let peak = 0;
  const backend = createServer((_req: IncomingMessage, res: ServerResponse) => {
    setTimeout(() => { res.end('held'); }, 600);
  });
  backend.on('connection', (socket: Socket) => {
    peak = Math.max(peak, ++open);
    socket.once('close', () => { open--; });
  });
  backend.listen(0, '127.0.0.1');
  await once(backend, 'listening');
  t.teardown(() => new Promise((resolve) => { backend.closeAllConnections(); backend.close(resolve); }));
  const cluster: Cluster = {
    id: 'held',
    backend: { kind: 'Service', namespace: 'test', name: 'held' },
    protocol: 'http1',
    endpoints: [{ address: '127.0.0.1', port: (backend.address() as AddressInfo).port, ready: true }],
  };
  const [port] = (await freePorts(1)) as [number];
  const { dataplane } = await serveWithLimits(t, { backendMaxConnections: 2, backendMaxPendingRequests: 3 }, () => ({
    listeners: [httpListener(port)],
    actions: [{ id: 'held', route: { kind: 'HTTPRoute', namespace: 'test', name: 'held' }, mirrors: [], backends: [{ weight: 1, clusterId: 'held' }], timeouts: {} }],
    clusters: [cluster],
  }));

  const started = performance.now();
  const answers = await Promise.all(Array.from({ length: 12 }, async () => {
    const text = await oneRequest(port, 'GET /x HTTP/1.1\r\nhost: fan.example.test\r\nconnection: close\r\n\r\n');
    return { status: text.slice(9, 12), ms: performance.now() - started };
  }));
  const ok = answers.filter((answer) => answer.status === '200');
  const shed = answers.filter((answer) => answer.status === '503');
  t.equal(ok.length, 5, 'two running plus three queued were served');
  t.equal(shed.length, 7, 'the other seven were shed');
  const firstServed = Math.min(...ok.map((answer) => answer.ms));
  t.ok(shed.every((answer) => answer.ms < firstServed), 'shed requests were answered before the backend freed a connection');
  t.ok(peak <= 2, `the backend saw at most ${peak} connections`);
  t.equal(await counterValue(dataplane, 'weir_upstream_overflow_total', { backend: 'held' }), 7, 'overflow counted');
  t.match(await oneRequest(port, 'GET /x HTTP/1.1\r\nhost: fan.example.test\r\nconnection: close\r\n\r\n'), /^HTTP\/1\.1 200 /, 'capacity is given back');
});

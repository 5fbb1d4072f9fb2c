// UDP listeners (UDPRoute) through a whole dataplane fed by Redis, with real UDP echo backends:
// datagrams and answers relayed per client flow, weights applied per flow, idle flows closed,
// the flow cap dropping new clients' datagrams without disturbing existing flows, an invalid
// backend dropping datagrams, and a config swap re-routing new flows while a flow whose endpoint
// is gone is closed.
import { createSocket, type Socket } from 'node:dgram';
import t from 'tap';
import type { Cluster, DataplaneConfig, StreamRoute } from '../../api-types/dataplane-config.ts';
import type { Dataplane } from '../../dataplane/dataplane.ts';
import { freeUdpPorts, poll, redis, redisClient, type TestContext } from '../harness/index.ts';
import { startUdpEcho, type UdpEchoServer } from '../harness/echo/udp.ts';
import { dataplaneConfig, newGateway, publish, published, startDataplane, waitForVersion } from './dataplane-fixtures.ts';

interface EchoReply {
  readonly request: string;
  readonly service: string;
}

/** A client socket of its own (one flow at the Gateway); `exchange` sends and awaits one answer. */
async function udpClient(t: TestContext, port: number): Promise<{ exchange(text: string, timeoutMs?: number): Promise<EchoReply | undefined>; socket: Socket }> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => { socket.bind({ address: '127.0.0.1', port: 0 }, () => { resolve(); }); });
  t.teardown(() => new Promise<void>((resolve) => { socket.close(() => { resolve(); }); }));
  const exchange = (text: string, timeoutMs = 1_000): Promise<EchoReply | undefined> => new Promise((resolve) => {
    const timer = setTimeout(() => { socket.off('message', onMessage); resolve(undefined); }, timeoutMs);
    const onMessage = (message: Buffer): void => {
      clearTimeout(timer);
      resolve(JSON.parse(message.toString('utf8')) as EchoReply);
    };
    socket.once('message', onMessage);
    socket.send(text, port, '127.0.0.1');
  });
  return { exchange, socket };
}

function udpCluster(id: string, echoes: readonly UdpEchoServer[]): Cluster {
  return { id, backend: { kind: 'Service', namespace: 'test', name: id }, protocol: 'udp', endpoints: echoes.map((echo) => ({ address: echo.host, port: echo.port, ready: true })) };
}

function udpConfig(gateway: ReturnType<typeof newGateway>, port: number, backends: StreamRoute['backends'], clusters: Cluster[]): DataplaneConfig {
  return dataplaneConfig(gateway, {
    listeners: [{ id: 'test/gw/udp', port, protocol: 'UDP', route: { route: { kind: 'UDPRoute', namespace: 'test', name: 'udp' }, hostnames: [], backends } }],
    actions: [],
    clusters,
  });
}

async function echo(t: TestContext, service: string): Promise<UdpEchoServer> {
  const server = await startUdpEcho({ service, namespace: 'test' });
  t.teardown(() => server.close());
  return server;
}

async function setup(t: TestContext, options: { idleTimeoutMs?: number; maxFlowsPerPort?: number } = {}): Promise<{ dataplane: Dataplane; port: number; apply: (config: DataplaneConfig, version: number) => Promise<void>; gateway: ReturnType<typeof newGateway> }> {
  const { url } = await redis();
  const redisConnection = await redisClient(t);
  const [port] = (await freeUdpPorts(1)) as [number];
  const gateway = newGateway();
  const dataplane = await startDataplane(t, url, gateway, { datagram: options });
  const apply = async (config: DataplaneConfig, version: number): Promise<void> => {
    await publish(redisConnection, gateway, published(config, version));
    await waitForVersion(dataplane, version);
  };
  return { dataplane, port, apply, gateway };
}

t.test('datagrams and answers are relayed per client; weights apply per flow', async (t) => {
  const [one, two] = await Promise.all([echo(t, 'one'), echo(t, 'two')]);
  const { dataplane, port, apply, gateway } = await setup(t);
  await apply(udpConfig(gateway, port, [{ weight: 3, clusterId: 'one' }, { weight: 1, clusterId: 'two' }], [udpCluster('one', [one]), udpCluster('two', [two])]), 1);
  t.same(dataplane.datagrams.ports, [port], 'the UDP port is open');

  const client = await udpClient(t, port);
  const first = await client.exchange('gateway-api-conformance-udp-echo');
  t.equal(first?.request, 'gateway-api-conformance-udp-echo', 'the backend got the datagram and its answer came back');
  for (let i = 0; i < 5; i++) t.equal((await client.exchange(`again ${i}`))?.service, first?.service, 'one client stays on its backend');
  t.equal(dataplane.datagrams.stats(port)?.flows, 1);

  const services = new Map<string, number>();
  for (let i = 0; i < 8; i++) {
    const reply = await (await udpClient(t, port)).exchange('hello');
    services.set(reply?.service ?? 'none', (services.get(reply?.service ?? 'none') ?? 0) + 1);
  }
  // Smooth weighted round robin: 3:1 over every 4 new flows; 9 flows (the first included) give 7:2.
  if (first?.service !== undefined) services.set(first.service, (services.get(first.service) ?? 0) + 1);
  t.same(Object.fromEntries(services), { one: 7, two: 2 }, 'weights 3:1, one pick per new client');
});

t.test('idle flows are closed; the flow cap drops new clients only; invalid backends drop datagrams', async (t) => {
  const one = await echo(t, 'one');
  const { dataplane, port, apply, gateway } = await setup(t, { idleTimeoutMs: 300, maxFlowsPerPort: 2 });
  await apply(udpConfig(gateway, port, [{ weight: 1, clusterId: 'one' }], [udpCluster('one', [one])]), 1);

  const a = await udpClient(t, port);
  const b = await udpClient(t, port);
  const c = await udpClient(t, port);
  t.ok(await a.exchange('a'), 'first client served');
  t.ok(await b.exchange('b'), 'second client served');
  t.equal(await c.exchange('c', 300), undefined, 'a third client is over the cap: dropped');
  t.equal(dataplane.datagrams.stats(port)?.dropped, 1);
  t.ok(await a.exchange('a again'), 'existing flows keep working at the cap');

  await poll(() => (dataplane.datagrams.stats(port)?.flows === 0 ? true : undefined), { what: 'idle flows to close', timeoutMs: 3_000 });
  t.ok(await c.exchange('c later'), 'after the idle timeout freed the table, the third client is served');
  const upstreamClients = one.clients.size;
  t.ok(upstreamClients >= 3, `a closed flow's client gets a new upstream socket (${upstreamClients} upstream sources)`);

  await apply(udpConfig(gateway, port, [{ weight: 1 }], []), 2);
  const d = await udpClient(t, port);
  t.equal(await d.exchange('d', 300), undefined, 'a route whose only backend is invalid drops datagrams');
});

t.test('a swap re-routes new flows; a flow whose endpoint is gone is closed; removing the listener closes the port', async (t) => {
  const [one, two] = await Promise.all([echo(t, 'one'), echo(t, 'two')]);
  const { dataplane, port, apply, gateway } = await setup(t);
  await apply(udpConfig(gateway, port, [{ weight: 1, clusterId: 'one' }], [udpCluster('one', [one])]), 1);
  const early = await udpClient(t, port);
  t.equal((await early.exchange('x'))?.service, 'one');

  await apply(udpConfig(gateway, port, [{ weight: 1, clusterId: 'one' }, { weight: 1, clusterId: 'two' }], [udpCluster('one', [one]), udpCluster('two', [two])]), 2);
  t.equal((await early.exchange('y'))?.service, 'one', 'a flow keeps its endpoint while the route still has it');

  await apply(udpConfig(gateway, port, [{ weight: 1, clusterId: 'two' }], [udpCluster('two', [two])]), 3);
  t.equal(dataplane.datagrams.stats(port)?.flows, 0, 'the flow to the removed endpoint was closed');
  t.equal((await early.exchange('z'))?.service, 'two', 'the same client continues on the new route');

  await apply(dataplaneConfig(gateway, { listeners: [], actions: [], clusters: [] }), 4);
  t.same(dataplane.datagrams.ports, [], 'the UDP port is closed');
  const probe = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.bind({ address: '127.0.0.1', port }, () => { resolve(); });
  });
  await new Promise<void>((resolve) => { probe.close(() => { resolve(); }); });
  t.pass('the port can be bound again');
});

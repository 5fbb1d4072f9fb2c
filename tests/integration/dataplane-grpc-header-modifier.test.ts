// GRPCRouteRequestHeaderModifier through a whole dataplane: set, add and remove on a gRPC
// rule's request metadata reach a grpc-js backend as the v1.7.0 conformance test
// grpcroute-request-header-modifier describes (set overwrites, add appends, remove drops, and
// names match case-insensitively). The translator side is the golden case of the same name.
import * as grpc from '@grpc/grpc-js';
import t from 'tap';
import type { Cluster } from '../../api-types/dataplane-config.ts';
import { freePort, redis, redisClient, type TestContext } from '../harness/index.ts';
import { action, dataplaneConfig, newGateway, publish, published, rule, startDataplane, waitForVersion } from './dataplane-fixtures.ts';

const bytes = (buffer: Buffer): Buffer => buffer;
const echoMethod: grpc.MethodDefinition<Buffer, Buffer> = {
  path: '/test.Echo/Metadata', requestStream: false, responseStream: false,
  requestSerialize: bytes, requestDeserialize: bytes, responseSerialize: bytes, responseDeserialize: bytes,
};

/** A grpc-js h2c backend answering with the `x-*` metadata it received, as JSON. */
async function metadataBackend(t: TestContext): Promise<number> {
  const server = new grpc.Server();
  server.addService({ Metadata: echoMethod }, {
    Metadata: ((call, callback) => {
      const seen: Record<string, string[]> = {};
      for (const key of Object.keys(call.metadata.getMap())) if (key.startsWith('x-')) seen[key] = call.metadata.get(key).map(String);
      callback(null, Buffer.from(JSON.stringify(seen)));
    }) as grpc.handleUnaryCall<Buffer, Buffer>,
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => { if (error === null) resolve(bound); else reject(error); });
  });
  t.teardown(() => { server.forceShutdown(); });
  return port;
}

async function call(client: grpc.Client, metadata: Record<string, string>): Promise<Record<string, string[]>> {
  const md = new grpc.Metadata();
  for (const [key, value] of Object.entries(metadata)) md.set(key, value);
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(echoMethod.path, bytes, bytes, Buffer.alloc(0), md, (error, reply) => {
      if (error !== null) reject(error);
      else resolve(JSON.parse(reply?.toString() ?? '{}') as Record<string, string[]>);
    });
  });
}

t.test('gRPC request metadata is set, appended and removed by the rule filter', async (t) => {
  const backendPort = await metadataBackend(t);
  const { url } = await redis();
  const redisConnection = await redisClient(t);
  const port = await freePort();
  const gateway = newGateway();
  const dataplane = await startDataplane(t, url, gateway);
  const cluster: Cluster = { id: 'meta', backend: { kind: 'Service', namespace: 'test', name: 'meta' }, protocol: 'h2c', endpoints: [{ address: '127.0.0.1', port: backendPort, ready: true }] };
  const requestHeaders = {
    set: [{ name: 'x-header-set-1', value: 'header-set-1' }, { name: 'x-header-set-2', value: 'header-set-2' }],
    add: [{ name: 'x-header-add-1', value: 'header-add-1' }, { name: 'x-header-add-2', value: 'header-add-2' }],
    remove: ['x-header-remove-1', 'x-header-remove-2'],
  };
  const config = dataplaneConfig(gateway, {
    listeners: [{ id: 'test/gw/grpc', port, protocol: 'HTTP', rules: [rule(0, { grpc: true, path: { type: 'Exact', value: echoMethod.path } })] }],
    actions: [action('meta', 'meta', { route: { kind: 'GRPCRoute', namespace: 'test', name: 'meta' }, requestHeaders })],
    clusters: [cluster],
  });
  await publish(redisConnection, gateway, published(config, 1));
  await waitForVersion(dataplane, 1);
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  t.teardown(() => { client.close(); });

  const seen = await call(client, { 'X-Header-Set-2': 'set-header-2', 'X-Header-Add-2': 'add-header-2', 'X-Header-Remove-2': 'should-be-removed-2', 'X-Other': 'kept' });
  t.same(seen['x-header-set-1'], ['header-set-1'], 'set adds a missing header');
  t.same(seen['x-header-set-2'], ['header-set-2'], 'set overwrites');
  t.same(seen['x-header-add-1'], ['header-add-1'], 'add adds a missing header');
  t.same((seen['x-header-add-2'] ?? []).join(',').split(/,\s*/), ['add-header-2', 'header-add-2'], 'add appends to the value sent');
  t.notOk('x-header-remove-2' in seen, 'remove drops the header');
  t.same(seen['x-other'], ['kept'], 'other metadata passes');

  const lower = await call(client, { 'x-header-set-1': 'original', 'x-header-remove-1': 'gone' });
  t.same(lower['x-header-set-1'], ['header-set-1'], 'names match whatever their case');
  t.notOk('x-header-remove-1' in lower);
});

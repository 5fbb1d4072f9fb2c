// gRPC through a whole dataplane with @grpc/grpc-js on both sides: the client speaks h2c with
// prior knowledge to Weir's HTTP port (and h2 over TLS to its HTTPS port), Weir proxies to
// grpc-js h2c backends. GRPCRoute matches
// arrive as rules with `grpc: true` (service/method as Exact or RegularExpression paths, header
// matches). Messages are raw bytes (identity serializers), so no generated code is needed.
import * as grpc from '@grpc/grpc-js';
import t from 'tap';
import type { Cluster } from '../../api-types/dataplane-config.ts';
import { freePorts, redis, redisClient, type TestContext } from '../harness/index.ts';
import { createCertificateAuthority } from '../harness/pki.ts';
import { action, dataplaneConfig, newGateway, publish, published, rule, startDataplane, waitForVersion } from './dataplane-fixtures.ts';

const bytes = (buffer: Buffer): Buffer => buffer;
const method = (path: string, requestStream: boolean, responseStream: boolean): grpc.MethodDefinition<Buffer, Buffer> => ({
  path, requestStream, responseStream, requestSerialize: bytes, requestDeserialize: bytes, responseSerialize: bytes, responseDeserialize: bytes,
});
const echoService: grpc.ServiceDefinition = {
  Unary: method('/test.Echo/Unary', false, false),
  Bidi: method('/test.Echo/Bidi', true, true),
};
const otherService: grpc.ServiceDefinition = { Call: method('/test.Other/Call', false, false) };

/** A grpc-js h2c backend whose answers are prefixed with its name. */
async function backend(t: TestContext, name: string): Promise<number> {
  const server = new grpc.Server();
  const unary: grpc.handleUnaryCall<Buffer, Buffer> = (call, callback) => {
    if (call.request.toString() === 'fail') {
      callback({ code: grpc.status.NOT_FOUND, details: `${name} has no such thing` });
      return;
    }
    const tenant = call.metadata.get('x-tenant')[0] ?? '';
    callback(null, Buffer.from(`${name}:${call.request.toString()}${tenant === '' ? '' : `:${String(tenant)}`}`));
  };
  const bidi: grpc.handleBidiStreamingCall<Buffer, Buffer> = (call) => {
    call.on('data', (message: Buffer) => { call.write(Buffer.from(`${name}:${message.toString()}`)); });
    call.on('end', () => { call.end(); });
  };
  server.addService(echoService, { Unary: unary, Bidi: bidi });
  server.addService(otherService, { Call: unary });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => { if (error === null) resolve(bound); else reject(error); });
  });
  t.teardown(() => { server.forceShutdown(); });
  return port;
}

function cluster(id: string, port: number): Cluster {
  return { id, backend: { kind: 'Service', namespace: 'test', name: id }, protocol: 'h2c', endpoints: [{ address: '127.0.0.1', port, ready: true }] };
}

async function unary(client: grpc.Client, path: string, message: string, metadata = new grpc.Metadata()): Promise<string> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(path, bytes, bytes, Buffer.from(message), metadata, (error, reply) => {
      if (error !== null) reject(error);
      else resolve(reply?.toString() ?? '');
    });
  });
}

async function unaryError(client: grpc.Client, path: string, message: string): Promise<grpc.ServiceError> {
  try {
    await unary(client, path, message);
  } catch (error) {
    return error as grpc.ServiceError;
  }
  throw new Error(`${path} succeeded`);
}

t.test('gRPC unary and bidirectional streaming through Weir', async (t) => {
  const [alpha, beta] = await Promise.all([backend(t, 'alpha'), backend(t, 'beta')]);
  const { url } = await redis();
  const redisConnection = await redisClient(t);
  const [port, tlsPort] = (await freePorts(2)) as [number, number];
  const gateway = newGateway();
  const dataplane = await startDataplane(t, url, gateway);
  const grpcRule = (actionIndex: number, extra: Parameters<typeof rule>[1]): ReturnType<typeof rule> => rule(actionIndex, { grpc: true, ...extra });
  const rules = [
    // In the translator's precedence order: exact paths, then prefixes with headers, then regexes.
    grpcRule(0, { path: { type: 'Exact', value: '/test.Echo/Unary' } }),
    grpcRule(1, { path: { type: 'PathPrefix', value: '/test.Other' }, headers: [{ type: 'Exact', name: 'x-tenant', value: 'blue' }] }),
    grpcRule(0, { path: { type: 'RegularExpression', value: '/test\\.Echo/B[a-z]+' } }),
  ];
  const ca = await createCertificateAuthority({ commonName: 'grpc-ca' });
  const serverCert = await ca.issueServer({ commonName: 'grpc', dnsNames: ['grpc.example.test'] });
  const config = {
    ...dataplaneConfig(gateway, {
      listeners: [
        { id: 'test/gw/grpc', port, protocol: 'HTTP', rules },
        { id: 'test/gw/grpcs', port: tlsPort, protocol: 'HTTPS', hostname: 'grpc.example.test', certificates: [0], rules },
      ],
      actions: [action('alpha', 'alpha', { route: { kind: 'GRPCRoute', namespace: 'test', name: 'alpha' } }), action('beta', 'beta', { route: { kind: 'GRPCRoute', namespace: 'test', name: 'beta' } })],
      clusters: [cluster('alpha', alpha), cluster('beta', beta)],
    }),
    certificates: [{ certPem: serverCert.chainPem, keyPem: serverCert.keyPem, dnsNames: ['grpc.example.test'] }],
  };
  await publish(redisConnection, gateway, published(config, 1));
  await waitForVersion(dataplane, 1);
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'grpc.example.test' });
  t.teardown(() => { client.close(); });

  t.equal(await unary(client, '/test.Echo/Unary', 'hello'), 'alpha:hello', 'service/method Exact');
  const tenant = new grpc.Metadata();
  tenant.set('x-tenant', 'blue');
  t.equal(await unary(client, '/test.Other/Call', 'hi', tenant), 'beta:hi:blue', 'header match');
  t.equal((await unaryError(client, '/test.Other/Call', 'hi')).code, grpc.status.UNIMPLEMENTED, 'header mismatch: no route');
  t.equal((await unaryError(client, '/test.Missing/Call', 'hi')).code, grpc.status.UNIMPLEMENTED, 'no route: UNIMPLEMENTED');
  const failed = await unaryError(client, '/test.Echo/Unary', 'fail');
  t.equal(failed.code, grpc.status.NOT_FOUND, 'backend status passes through');
  t.equal(failed.details, 'alpha has no such thing');

  // Bidirectional: each reply arrives before the next message is sent, so nothing is buffered.
  const call = client.makeBidiStreamRequest('/test.Echo/Bidi', bytes, bytes, new grpc.Metadata());
  const replies: string[] = [];
  const next = async (): Promise<string> => new Promise((resolve, reject) => {
    call.once('data', (reply: Buffer) => { resolve(reply.toString()); });
    call.once('error', reject);
  });
  for (const message of ['one', 'two', 'three']) {
    const reply = next();
    call.write(Buffer.from(message));
    replies.push(await reply);
  }
  const status = new Promise<grpc.StatusObject>((resolve) => { call.once('status', resolve); });
  call.end();
  t.same(replies, ['alpha:one', 'alpha:two', 'alpha:three'], 'service/method RegularExpression, streaming both ways');
  t.equal((await status).code, grpc.status.OK, 'trailers reached the client');

  // The same routes over TLS (ALPN h2) on the HTTPS listener.
  const secure = new grpc.Client(`127.0.0.1:${tlsPort}`, grpc.credentials.createSsl(Buffer.from(ca.certPem)), {
    'grpc.ssl_target_name_override': 'grpc.example.test',
    'grpc.default_authority': 'grpc.example.test',
  });
  t.teardown(() => { secure.close(); });
  t.equal(await unary(secure, '/test.Echo/Unary', 'over tls'), 'alpha:over tls', 'gRPC over TLS');
  t.equal((await unaryError(secure, '/test.Missing/Call', 'hi')).code, grpc.status.UNIMPLEMENTED, 'no route over TLS: UNIMPLEMENTED');

  // Backend gone: a gRPC-shaped UNAVAILABLE, not an HTML error page.
  const down = { ...config, clusters: [cluster('alpha', (await freePorts(1))[0]!), cluster('beta', beta)] };
  await publish(redisConnection, gateway, published(down, 2));
  await waitForVersion(dataplane, 2);
  t.equal((await unaryError(client, '/test.Echo/Unary', 'hello')).code, grpc.status.UNAVAILABLE, 'no reachable endpoint: UNAVAILABLE');
});

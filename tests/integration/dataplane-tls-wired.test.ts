// TLS passthrough and TCP through a whole dataplane: config published in Redis, applied by the
// runtime, served by the stream listeners, then changed and removed by later versions.
import { once } from 'node:events';
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import t from 'tap';
import type { Cluster, DataplaneConfig } from '../../api-types/dataplane-config.ts';
import { freePorts, redis, redisClient } from '../harness/index.ts';
import { createCertificateAuthority } from '../harness/pki.ts';
import { dataplaneConfig, newGateway, publish, published, startDataplane, waitForVersion } from './dataplane-fixtures.ts';

const ca = await createCertificateAuthority({ commonName: 'wired-ca' });
const backendCert = await ca.issueServer({ commonName: 'tls-backend', dnsNames: ['db.example.test'] });

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => { server.close(); });
  return (server.address() as { port: number }).port;
}

const greet = (name: string) => (socket: Socket): void => {
  socket.on('error', () => undefined);
  socket.end(`${name}\n`);
};

function tcpCluster(id: string, port: number): Cluster {
  return { id, backend: { kind: 'Service', namespace: 'test', name: id }, protocol: 'tcp', endpoints: [{ address: '127.0.0.1', port, ready: true }] };
}

async function readAll(socket: Socket): Promise<string> {
  let data = '';
  socket.setEncoding('utf8');
  for await (const chunk of socket) data += chunk as string;
  return data;
}

t.test('TLS passthrough and TCP listeners follow published configs', async (t) => {
  const { url } = await redis();
  const client = await redisClient(t);
  const tlsPort = await listen(createTlsServer({ cert: backendCert.chainPem, key: backendCert.keyPem }, greet('tls-backend')));
  const tcpA = await listen(createServer(greet('tcp-a')));
  const tcpB = await listen(createServer(greet('tcp-b')));
  const [passPort, tcpPort] = await freePorts(2);
  const gateway = newGateway();
  const dataplane = await startDataplane(t, url, gateway);
  const config = (tcpBackend: string): DataplaneConfig => dataplaneConfig(gateway, {
    listeners: [
      { id: 'test/gw/tls', port: passPort!, protocol: 'TLS', mode: 'Passthrough', certificates: [], routes: [
        { route: { kind: 'TLSRoute', namespace: 'test', name: 'db' }, hostnames: ['db.example.test'], backends: [{ clusterId: 'tls', weight: 1 }] },
      ] },
      { id: 'test/gw/tcp', port: tcpPort!, protocol: 'TCP', route: { route: { kind: 'TCPRoute', namespace: 'test', name: 't' }, hostnames: [], backends: [{ clusterId: tcpBackend, weight: 1 }] } },
    ],
    actions: [],
    clusters: [tcpCluster('tls', tlsPort), tcpCluster('a', tcpA), tcpCluster('b', tcpB)],
  });
  await publish(client, gateway, published(config('a'), 1));
  await waitForVersion(dataplane, 1);

  const secure = tlsConnect({ host: '127.0.0.1', port: passPort!, servername: 'db.example.test', ca: ca.certPem });
  await once(secure, 'secureConnect');
  t.equal(secure.getPeerX509Certificate()?.subject, 'CN=tls-backend', 'end-to-end TLS with the backend');
  t.equal(await readAll(secure), 'tls-backend\n');
  t.equal(await readAll(netConnect(tcpPort!, '127.0.0.1')), 'tcp-a\n');

  await publish(client, gateway, published(config('b'), 2));
  await waitForVersion(dataplane, 2);
  t.equal(await readAll(netConnect(tcpPort!, '127.0.0.1')), 'tcp-b\n', 'TCPRoute backend changed by version 2');

  await publish(client, gateway, published(dataplaneConfig(gateway, { listeners: [], actions: [], clusters: [] }), 3));
  await waitForVersion(dataplane, 3);
  const refused = netConnect(tcpPort!, '127.0.0.1');
  const [error] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
  t.equal(error.code, 'ECONNREFUSED', 'ports closed once their listeners are gone');
});

import { createServer, type Server } from 'node:net';

/**
 * Returns `count` distinct TCP ports that were free on 127.0.0.1 a moment ago. All are held
 * open together before release so one call never returns the same port twice.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      ports.push(await listenOnAnyPort(server));
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port!;
}

function listenOnAnyPort(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error('unexpected server address'));
      } else {
        resolve(address.port);
      }
    });
  });
}

/** Like `freePorts`, for UDP on 127.0.0.1 (a separate port space from TCP). */
export async function freeUdpPorts(count: number): Promise<number[]> {
  const { createSocket } = await import('node:dgram');
  const sockets = Array.from({ length: count }, () => createSocket('udp4'));
  try {
    return await Promise.all(sockets.map((socket) => new Promise<number>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address: '127.0.0.1', port: 0, exclusive: true }, () => { resolve(socket.address().port); });
    })));
  } finally {
    await Promise.all(sockets.map((socket) => new Promise((resolve) => { socket.close(() => { resolve(undefined); }); })));
  }
}

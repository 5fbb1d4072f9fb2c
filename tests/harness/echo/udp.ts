/**
 * A UDP echo backend answering like the conformance suite's echo-basic in `UDP_ECHO_SERVER`
 * mode: every datagram gets one datagram back, the JSON `{request, namespace, service, pod}`
 * where `request` is the datagram received.
 */
import { createSocket, type Socket } from 'node:dgram';

export interface UdpEchoOptions {
  readonly host?: string;
  /** 0 (default) picks a free port. */
  readonly port?: number;
  readonly namespace?: string;
  readonly service: string;
  readonly pod?: string;
}

export interface UdpEchoServer {
  readonly host: string;
  readonly port: number;
  /** Datagrams received. */
  readonly received: number;
  /** Distinct client `address:port` pairs seen: one per Gateway flow. */
  readonly clients: ReadonlySet<string>;
  close(): Promise<void>;
}

export async function startUdpEcho(options: UdpEchoOptions): Promise<UdpEchoServer> {
  const host = options.host ?? '127.0.0.1';
  const socket: Socket = createSocket('udp4');
  const clients = new Set<string>();
  let received = 0;
  const identity = { namespace: options.namespace ?? 'default', service: options.service, pod: options.pod ?? `${options.service}-pod` };
  socket.on('message', (message, from) => {
    received++;
    clients.add(`${from.address}:${from.port}`);
    socket.send(JSON.stringify({ request: message.toString('utf8'), ...identity }), from.port, from.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: host, port: options.port ?? 0 }, () => { socket.off('error', reject); resolve(); });
  });
  const port = socket.address().port;
  return {
    host,
    port,
    get received() { return received; },
    clients,
    close: () => new Promise((resolve) => { socket.close(() => { resolve(); }); }),
  };
}

/**
 * Sample backends for standalone demos (`weir standalone --echo-backends`): an echo server
 * (the project's stand-in for the conformance suite's echo-basic) on every loopback endpoint
 * the EndpointSlices in the folder point at, named after the slice's Service.
 */
import { SERVICE_NAME_LABEL } from '../../api-types/gateway-api/index.ts';
import type { EndpointSlice } from '../../api-types/gateway-api/index.ts';
import { startEcho, type EchoServer } from '../../tests/harness/echo/server.ts';

export interface LoopbackBackend {
  readonly namespace: string;
  readonly service: string;
  readonly address: string;
  readonly port: number;
}

const LOOPBACK = /^127\.\d+\.\d+\.\d+$/;

export function loopbackBackends(slices: readonly EndpointSlice[]): LoopbackBackend[] {
  const found = new Map<string, LoopbackBackend>();
  for (const slice of slices) {
    const service = slice.metadata.labels?.[SERVICE_NAME_LABEL] ?? slice.metadata.name;
    for (const endpoint of slice.endpoints ?? []) {
      for (const address of endpoint.addresses) {
        if (!LOOPBACK.test(address)) continue;
        for (const port of slice.ports ?? []) {
          if (port.port === undefined) continue;
          found.set(`${address}:${port.port}`, { namespace: slice.metadata.namespace ?? 'default', service, address, port: port.port });
        }
      }
    }
  }
  return [...found.values()].sort((a, b) => a.port - b.port);
}

export async function startEchoBackends(backends: readonly LoopbackBackend[], log: (line: string) => void): Promise<EchoServer[]> {
  const servers: EchoServer[] = [];
  try {
    for (const backend of backends) {
      servers.push(
        await startEcho({
          host: backend.address,
          httpPort: backend.port,
          h2cPort: false,
          namespace: backend.namespace,
          service: backend.service,
          pod: `${backend.service}-${backend.port}`,
          log,
        }),
      );
    }
  } catch (error) {
    await Promise.all(servers.map((server) => server.close()));
    throw error;
  }
  return servers;
}

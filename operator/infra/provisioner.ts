/** What the reconciler needs from an infra provisioner. */
import type { GatewayOutput } from '../translator/index.ts';
import type { GatewayAddress } from '../status/sink.ts';

export interface InfraProvisioner {
  /**
   * Ensures the dataplane infrastructure of every accepted Gateway exists and matches; returns
   * each Gateway's addresses (`ns/name` → addresses) for its status.
   */
  apply(gateways: readonly GatewayOutput[]): Promise<Map<string, GatewayAddress[]>>;
}

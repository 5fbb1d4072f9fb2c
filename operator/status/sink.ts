/** Where computed statuses go: the API server's status subresources, or a log in standalone mode. */
import type { ObjectStatus } from '../translator/index.ts';

export interface GatewayAddress {
  readonly type: string;
  readonly value: string;
  /** Reported when the Gateway asked for a routability (`Cluster`). */
  readonly routability?: string;
}

export interface StatusContext {
  /** Gateway id (`ns/name`) → addresses from the provisioner. */
  readonly addresses: ReadonlyMap<string, readonly GatewayAddress[]>;
}

export interface StatusSink {
  write(statuses: readonly ObjectStatus[], context: StatusContext): Promise<void>;
}

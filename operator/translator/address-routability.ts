/**
 * GatewayAddressRoutability (v1.7.0): `spec.addresses[].routability` asks where the Gateway's
 * address must be reachable from. Weir serves every Gateway through one Service, so it honours
 * the default (empty: the Service type Weir is configured with, LoadBalancer unless changed) and
 * `Cluster` (a ClusterIP Service; the address is its ClusterIP), one of them per Gateway.
 * Implementation-specific values are not supported.
 */
import { Reason, type Problem } from './conditions.ts';
import type { GatewaySpecAddress } from '../../api-types/gateway-api/index.ts';

export type AddressRoutability = 'Cluster' | undefined;

export function requestedRoutability(addresses: readonly GatewaySpecAddress[]): { readonly routability: AddressRoutability } | Problem {
  const requested = new Set<string>();
  for (const address of addresses) requested.add(address.routability ?? '');
  const unsupported = [...requested].filter((value) => value !== '' && value !== 'Cluster');
  if (unsupported.length > 0) return { reason: Reason.UnsupportedAddress, message: `address routability ${unsupported.join(', ')} is not supported (only Cluster or the default)` };
  if (requested.size > 1) return { reason: Reason.UnsupportedAddress, message: 'all requested addresses must ask for the same routability: Weir serves a Gateway through one Service' };
  return { routability: requested.has('Cluster') ? 'Cluster' : undefined };
}

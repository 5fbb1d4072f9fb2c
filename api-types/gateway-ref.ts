/**
 * The one way to name a Gateway across the operator, the Redis contract and the dataplane:
 * `GatewayRef` is the pair, `gatewayId` its `<namespace>/<name>` string (map keys, log fields,
 * notification payloads), `parseGatewayId` the inverse.
 */
export interface GatewayRef {
  readonly namespace: string;
  readonly name: string;
}

export function gatewayId(gateway: GatewayRef): string {
  return `${gateway.namespace}/${gateway.name}`;
}

/** The Gateway an id names; undefined unless it is exactly `<namespace>/<name>` with both parts non-empty. */
export function parseGatewayId(id: string): GatewayRef | undefined {
  const slash = id.indexOf('/');
  if (slash <= 0 || slash === id.length - 1 || id.indexOf('/', slash + 1) !== -1) return undefined;
  return { namespace: id.slice(0, slash), name: id.slice(slash + 1) };
}

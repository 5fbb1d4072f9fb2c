/**
 * The Redis contract between operator and dataplane (see docs/adr/0002 and 0005). Values are
 * encoded and decoded only by `config-codec.ts`.
 *
 * - `configKey(gw)` holds the current `PublishedConfig` JSON for a Gateway.
 * - After each SET (in the same atomic script) the operator PUBLISHes a `ConfigNotification`
 *   on `CONFIG_CHANNEL`; a dataplane that GETs after the notification always sees that version.
 * - `ackKey(gw)` is a hash `pod name → ConfigAck JSON`, refreshed with a TTL, telling the
 *   operator which revision and digest each pod applied (or why it could not apply a newer one).
 *
 * A revision is the pair (epoch, version), compared epoch first: see `compareRevisions`.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { GatewayRef } from './gateway-ref.ts';

export const CONFIG_CHANNEL = 'weir:config';

export function configKey(gateway: GatewayRef): string {
  return `weir:config:${gateway.namespace}/${gateway.name}`;
}

export function ackKey(gateway: GatewayRef): string {
  return `weir:ack:${gateway.namespace}/${gateway.name}`;
}

/** Seconds an ack hash lives without a refresh; pods refresh well within it. */
export const ACK_TTL_SECONDS = 60;

export const ConfigNotification = Type.Object({
  /** `<namespace>/<name>` of the Gateway. */
  gateway: Type.String({ minLength: 3 }),
  epoch: Type.Integer({ minimum: 0 }),
  version: Type.Integer({ minimum: 0 }),
  /** Digest of the config now stored; empty when `deleted`. */
  digest: Type.String(),
  /** True when the Gateway was deleted and its key removed. */
  deleted: Type.Optional(Type.Boolean()),
});
export type ConfigNotification = Static<typeof ConfigNotification>;

export const ConfigAck = Type.Object({
  /** Revision the pod is serving (0/0 before the first one). */
  appliedEpoch: Type.Integer({ minimum: 0 }),
  appliedVersion: Type.Integer({ minimum: 0 }),
  /** Digest of the config the pod is serving (empty before the first one). */
  appliedDigest: Type.String(),
  /** Set when the pod rejected a newer revision; it keeps serving the applied one. */
  rejectedEpoch: Type.Optional(Type.Integer({ minimum: 0 })),
  rejectedVersion: Type.Optional(Type.Integer({ minimum: 0 })),
  /** Why the newest revision is not applied: rejected, or waiting to be retried (e.g. a port still taken). */
  rejectedReason: Type.Optional(Type.String()),
  /** Milliseconds since the epoch of the last refresh. */
  at: Type.Integer({ minimum: 0 }),
});
export type ConfigAck = Static<typeof ConfigAck>;

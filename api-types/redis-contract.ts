/**
 * The Redis contract between operator and dataplane (see shared design §3).
 *
 * - `configKey(gw)` holds the current `PublishedConfig` JSON for a Gateway.
 * - After each SET (in the same MULTI/EXEC) the operator PUBLISHes a `ConfigNotification` on
 *   `CONFIG_CHANNEL`; a dataplane that GETs after the notification always sees that version.
 * - `ackKey(gw)` is a hash `pod name → ConfigAck JSON`, refreshed with a TTL, telling the
 *   operator which version each pod applied (or why it rejected one).
 */
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
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
  version: Type.Integer({ minimum: 0 }),
  digest: Type.String(),
  /** True when the Gateway was deleted and its key removed. */
  deleted: Type.Optional(Type.Boolean()),
});
export type ConfigNotification = Static<typeof ConfigNotification>;

export const ConfigAck = Type.Object({
  /** Version the pod is serving (0 before the first one). */
  appliedVersion: Type.Integer({ minimum: 0 }),
  appliedDigest: Type.String(),
  /** Set when the pod rejected a newer version; it keeps serving `appliedVersion`. */
  rejectedVersion: Type.Optional(Type.Integer({ minimum: 0 })),
  rejectedReason: Type.Optional(Type.String()),
  /** Milliseconds since the epoch of the last refresh. */
  at: Type.Integer({ minimum: 0 }),
});
export type ConfigAck = Static<typeof ConfigAck>;

export const isConfigNotification = TypeCompiler.Compile(ConfigNotification);
export const isConfigAck = TypeCompiler.Compile(ConfigAck);

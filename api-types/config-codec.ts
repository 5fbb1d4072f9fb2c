/**
 * The one encoder/decoder of what travels between operator and dataplane: the config envelope,
 * the change notification and the pod's ack. The publisher, the dataplane and standalone mode
 * all go through these functions; the Redis scripts only store and forward strings made here.
 *
 * A config's digest is `sha256:<hex>` of its JSON as published: the translator is deterministic
 * (same input, byte-identical output, keys always in the same order), so that JSON is already
 * canonical, and hashing the string we send anyway costs a few ms where re-serializing with
 * sorted keys cost ~100 ms for a 2 MB config.
 */
import { createHash } from 'node:crypto';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { validatePublishedConfig, type DataplaneConfig, type PublishedConfig } from './dataplane-config.ts';
import { ConfigAck, ConfigNotification } from './redis-contract.ts';

/** Where a config stands in the order of everything ever published for its Gateway. */
export interface Revision {
  /** The publishing operator's leadership term (see ADR 0005). */
  readonly epoch: number;
  /** Counts the Gateway's configs within the epoch. */
  readonly version: number;
}

/** Older than every published revision: what a pod holds before its first config. */
export const NO_REVISION: Revision = { epoch: 0, version: 0 };

/** Negative when `a` is older than `b`, 0 when equal, positive when newer: epoch first, then version. */
export function compareRevisions(a: Revision, b: Revision): number {
  if (a.epoch !== b.epoch) return a.epoch < b.epoch ? -1 : 1;
  if (a.version !== b.version) return a.version < b.version ? -1 : 1;
  return 0;
}

export function sameRevision(a: Revision, b: Revision): boolean {
  return compareRevisions(a, b) === 0;
}

/** For logs and condition messages. */
export function formatRevision(revision: Revision): string {
  return `version ${revision.version} of epoch ${revision.epoch}`;
}

export interface SerializedConfig {
  readonly json: string;
  readonly digest: string;
}

export function serializeConfig(config: DataplaneConfig): SerializedConfig {
  const json = JSON.stringify(config);
  return { json, digest: `sha256:${createHash('sha256').update(json).digest('hex')}` };
}

/**
 * The envelope stored under the config key. The config's JSON is embedded as serialized, not re-encoded.
 * `traceparent` (W3C) names the operator span that published this revision, so each pod's
 * spans join the trace of the change; envelopes without it (older operators, tracing off) stay valid.
 */
export function encodeEnvelope(revision: Revision, config: SerializedConfig, traceparent?: string): string {
  const trace = traceparent === undefined ? '' : `"traceparent":${JSON.stringify(traceparent)},`;
  return `{"epoch":${revision.epoch},"version":${revision.version},"digest":${JSON.stringify(config.digest)},${trace}"config":${config.json}}`;
}

export type DecodedEnvelope =
  | { readonly ok: true; readonly value: PublishedConfig }
  /**
   * `revision` and `traceparent` are set when the input named them, so the rejection can be
   * reported against that revision and in the trace of its change.
   */
  | { readonly ok: false; readonly revision: Revision | undefined; readonly traceparent?: string; readonly reason: string };

/** Parses and checks untrusted input against the contract. */
export function decodeEnvelope(raw: string): DecodedEnvelope {
  let input: unknown;
  try {
    input = JSON.parse(raw);
  } catch (error) {
    return { ok: false, revision: undefined, reason: `config is not valid JSON: ${(error as Error).message}` };
  }
  const checked = validatePublishedConfig(input);
  if (checked.ok) return { ok: true, value: checked.value };
  const traceparent = namedTraceparent(input);
  return {
    ok: false,
    revision: namedRevision(input),
    ...(traceparent === undefined ? {} : { traceparent }),
    reason: `config does not match the contract: ${checked.errors.join('; ')}`,
  };
}

function namedTraceparent(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const { traceparent } = input as { traceparent?: unknown };
  return typeof traceparent === 'string' ? traceparent : undefined;
}

/** The revision an envelope that failed validation claims, when it names one plainly. */
function namedRevision(input: unknown): Revision | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const { epoch, version } = input as { epoch?: unknown; version?: unknown };
  return Number.isSafeInteger(epoch) && Number.isSafeInteger(version) ? { epoch: epoch as number, version: version as number } : undefined;
}

const notificationCheck = TypeCompiler.Compile(ConfigNotification);
const ackCheck = TypeCompiler.Compile(ConfigAck);

export function encodeNotification(notification: ConfigNotification): string {
  const { gateway, epoch, version, digest, deleted } = notification;
  return JSON.stringify(deleted === true ? { gateway, epoch, version, digest, deleted } : { gateway, epoch, version, digest });
}

/** Undefined for anything that is not a well-formed notification. */
export function decodeNotification(raw: string): ConfigNotification | undefined {
  return parseChecked(raw, (value): value is ConfigNotification => notificationCheck.Check(value));
}

export function encodeAck(ack: ConfigAck): string {
  return JSON.stringify(ack);
}

/** Undefined for anything that is not a well-formed ack. */
export function decodeAck(raw: string): ConfigAck | undefined {
  return parseChecked(raw, (value): value is ConfigAck => ackCheck.Check(value));
}

function parseChecked<T>(raw: string, check: (value: unknown) => value is T): T | undefined {
  try {
    const value: unknown = JSON.parse(raw);
    return check(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

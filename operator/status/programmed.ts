/**
 * Everything "Programmed" means once the translator found a Gateway valid: Programmed=True
 * only when at least one dataplane pod reports that it serves exactly what is published (the
 * digest, at the published revision or newer). Otherwise the Gateway's and its listeners'
 * Programmed conditions turn False with reason Pending and a message saying what is missing.
 */
import { compareRevisions, formatRevision, sameRevision } from '../../api-types/config-codec.ts';
import { gatewayId } from '../../api-types/gateway-ref.ts';
import {
  ConditionType, Reason, condition, type GatewayStatusOut, type ListenerStatusOut, type ObjectStatus, type TranslatedCondition,
} from '../translator/index.ts';
import type { PodAck } from '../publisher/acks.ts';
import type { PublishedState } from '../publisher/publisher.ts';

export interface ProgrammedVerdict {
  readonly programmed: boolean;
  /** What the pods report, for the condition message when not programmed. */
  readonly message: string;
}

export function programmedVerdict(published: PublishedState | undefined, acks: readonly PodAck[]): ProgrammedVerdict {
  if (published === undefined) return { programmed: false, message: 'The configuration has not been published yet' };
  const wanted = `configuration ${formatRevision(published)} (${published.digest})`;
  const serving = acks.filter((ack) => ack.appliedDigest === published.digest && compareRevisions(appliedRevision(ack), published) >= 0);
  if (serving.length > 0) return { programmed: true, message: `${serving.length} of ${acks.length} dataplane pods serve ${wanted}` };
  if (acks.length === 0) return { programmed: false, message: `Waiting for a dataplane pod to apply ${wanted} (no dataplane pod has reported yet)` };
  const rejected = acks.find((ack) => ack.rejectedEpoch !== undefined && ack.rejectedVersion !== undefined && sameRevision({ epoch: ack.rejectedEpoch, version: ack.rejectedVersion }, published));
  if (rejected !== undefined) {
    return { programmed: false, message: `Dataplane pod ${rejected.pod} rejected ${wanted}: ${rejected.rejectedReason ?? 'no reason given'}` };
  }
  const retrying = acks.find((ack) => ack.rejectedReason !== undefined && ack.rejectedVersion === undefined);
  if (retrying !== undefined) {
    return { programmed: false, message: `Dataplane pod ${retrying.pod} cannot apply ${wanted} yet and retries: ${retrying.rejectedReason ?? ''}` };
  }
  const others = [...new Set(acks.map((ack) => `${formatRevision(appliedRevision(ack))} (${ack.appliedDigest === '' ? 'nothing' : ack.appliedDigest})`))];
  return { programmed: false, message: `Waiting for a dataplane pod to apply ${wanted}; ${acks.length} pods serve ${others.join(', ')}` };
}

function appliedRevision(ack: PodAck): { epoch: number; version: number } {
  return { epoch: ack.appliedEpoch, version: ack.appliedVersion };
}

export interface ProgrammedInput {
  readonly published: ReadonlyMap<string, PublishedState>;
  /** Gateways whose current config the store could not take, with why. */
  readonly unpublished: ReadonlyMap<string, string>;
  /** Acks per Gateway id, or why they could not be read. */
  readonly acks: ReadonlyMap<string, readonly PodAck[]> | { readonly unreadable: string };
  /** The digest each Gateway was last found programmed with (from the previous result). */
  readonly confirmed: ReadonlyMap<string, string>;
}

export interface ProgrammedResult {
  readonly statuses: ObjectStatus[];
  /** Gateways whose Programmed waits on publishing or on dataplane acks (worth polling for). */
  readonly pending: string[];
  /** Pass back as `confirmed` next time. */
  readonly confirmed: ReadonlyMap<string, string>;
}

export function applyProgrammed(statuses: readonly ObjectStatus[], input: ProgrammedInput): ProgrammedResult {
  const pending: string[] = [];
  const confirmed = new Map<string, string>();
  const result = statuses.map((status): ObjectStatus => {
    if (status.kind !== 'Gateway') return status;
    const translatorSaysProgrammed = status.status.conditions.some((entry) => entry.type === ConditionType.Programmed && entry.status === 'True');
    if (!translatorSaysProgrammed) return status;
    const id = gatewayId(status);
    const published = input.published.get(id);
    const verdict = gatewayVerdict(id, published, input);
    if (verdict.programmed) {
      if (published !== undefined) confirmed.set(id, published.digest);
      return status;
    }
    pending.push(id);
    return { ...status, status: pendingProgrammed(status.status, verdict.message) };
  });
  return { statuses: result, pending, confirmed };
}

function gatewayVerdict(id: string, published: PublishedState | undefined, input: ProgrammedInput): ProgrammedVerdict {
  const failure = input.unpublished.get(id);
  if (failure !== undefined) {
    return { programmed: false, message: `The configuration could not be published (${failure}); dataplane pods keep serving the previous one; retrying` };
  }
  if ('unreadable' in input.acks) {
    // The pods' acks are out of reach: what was confirmed for this very config still holds.
    if (published !== undefined && input.confirmed.get(id) === published.digest) return { programmed: true, message: '' };
    return { programmed: false, message: `Cannot confirm that dataplane pods serve the configuration: their acks could not be read (${input.acks.unreadable})` };
  }
  return programmedVerdict(published, input.acks.get(id) ?? []);
}

/** Turns every Programmed=True (Gateway and listeners) into Programmed=False/Pending. */
function pendingProgrammed(status: GatewayStatusOut, message: string): GatewayStatusOut {
  return {
    ...status,
    conditions: pending(status.conditions, message),
    listeners: status.listeners.map((listener): ListenerStatusOut => ({ ...listener, conditions: pending(listener.conditions, message) })),
  };
}

function pending(conditions: readonly TranslatedCondition[], message: string): TranslatedCondition[] {
  return conditions.map((entry) =>
    entry.type === ConditionType.Programmed && entry.status === 'True'
      ? condition(ConditionType.Programmed, false, Reason.Pending, message, entry.observedGeneration)
      : entry,
  );
}

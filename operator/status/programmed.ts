/**
 * "Programmed" means served: a Gateway the translator found valid is Programmed=True only when
 * at least one dataplane pod acknowledged the version now published; otherwise its
 * Programmed conditions (Gateway and listeners) turn False with reason Pending and a message
 * saying what is missing.
 */
import { pendingProgrammed, type ObjectStatus } from '../translator/index.ts';
import { programmedVerdict, type PodAck } from '../publisher/acks.ts';
import type { PublishedState } from '../publisher/publisher.ts';

export interface ProgrammedInput {
  readonly published: ReadonlyMap<string, PublishedState>;
  readonly acks: ReadonlyMap<string, readonly PodAck[]>;
}

export interface ProgrammedResult {
  readonly statuses: ObjectStatus[];
  /** Gateways whose Programmed waits on dataplane acks (worth polling for). */
  readonly pending: string[];
}

export function applyProgrammed(statuses: readonly ObjectStatus[], input: ProgrammedInput): ProgrammedResult {
  const pending: string[] = [];
  const result = statuses.map((status): ObjectStatus => {
    if (status.kind !== 'Gateway') return status;
    const id = `${status.namespace}/${status.name}`;
    const translatorSaysProgrammed = status.status.conditions.some((entry) => entry.type === 'Programmed' && entry.status === 'True');
    if (!translatorSaysProgrammed) return status;
    const verdict = programmedVerdict(input.published.get(id)?.version, input.acks.get(id) ?? []);
    if (verdict.programmed) return status;
    pending.push(id);
    return { ...status, status: pendingProgrammed(status.status, verdict.message) };
  });
  return { statuses: result, pending };
}

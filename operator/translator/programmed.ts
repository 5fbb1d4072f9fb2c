/**
 * The hook for the operator's "Programmed only once dataplanes applied it" rule. The
 * translator reports Programmed=True when a Gateway's config is valid; until the dataplane
 * pods ack that config version, the operator passes the status through `pendingProgrammed`.
 */
import { condition, ConditionType, Reason, type TranslatedCondition } from './conditions.ts';
import type { GatewayStatusOut, ListenerStatusOut } from './status.ts';

function pending(conditions: readonly TranslatedCondition[], message: string): TranslatedCondition[] {
  return conditions.map((entry) =>
    entry.type === ConditionType.Programmed && entry.status === 'True'
      ? condition(ConditionType.Programmed, false, Reason.Pending, message, entry.observedGeneration)
      : entry,
  );
}

/** Turns every Programmed=True (Gateway and listeners) into Programmed=False/Pending. */
export function pendingProgrammed(status: GatewayStatusOut, message = 'Waiting for dataplane pods to apply the configuration'): GatewayStatusOut {
  return {
    ...status,
    conditions: pending(status.conditions, message),
    listeners: status.listeners.map((listener): ListenerStatusOut => ({ ...listener, conditions: pending(listener.conditions, message) })),
  };
}

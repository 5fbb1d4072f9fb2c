/** Status of Gateways and ListenerSets, once routes are attached. */
import { condition, ConditionType, Reason, type TranslatedCondition } from './conditions.ts';
import type { GatewayState, ListenerSetState } from './gateways.ts';
import { isFullyValid, isServing, listenerStatus } from './listeners.ts';
import type { ObjectStatus } from './status.ts';

export function gatewayStatus(gateway: GatewayState): ObjectStatus {
  const generation = gateway.meta.generation;
  const conditions: TranslatedCondition[] = [];
  const listeners = gateway.listeners;
  if (gateway.problem !== undefined) {
    conditions.push(condition(ConditionType.Accepted, false, gateway.problem.reason, gateway.problem.message, generation));
  } else if (
    (listeners.length > 0 || gateway.ignoredListeners !== undefined) &&
    listeners.every((listener) => listener.acceptProblem !== undefined || listener.conflict !== undefined)
  ) {
    conditions.push(condition(ConditionType.Accepted, false, Reason.ListenersNotValid, withIgnored('No listener is valid', gateway.ignoredListeners), generation));
  } else if (!listeners.every(isFullyValid) || gateway.ignoredListeners !== undefined) {
    const message = listeners.every(isFullyValid) ? 'Some listener entries are not valid' : 'Some listeners are not valid';
    conditions.push(condition(ConditionType.Accepted, true, Reason.ListenersNotValid, withIgnored(message, gateway.ignoredListeners), generation));
  } else {
    conditions.push(condition(ConditionType.Accepted, true, Reason.Accepted, 'Gateway is accepted', generation));
  }
  const accepted = conditions[0]?.status === 'True';
  conditions.push(
    accepted
      ? condition(ConditionType.Programmed, true, Reason.Programmed, 'Configuration is valid and published', generation)
      : condition(ConditionType.Programmed, false, Reason.Invalid, 'Gateway is not accepted', generation),
  );
  conditions.push(
    gateway.backendProblem === undefined
      ? condition(ConditionType.ResolvedRefs, true, Reason.ResolvedRefs, 'References resolved', generation)
      : condition(ConditionType.ResolvedRefs, false, gateway.backendProblem.reason, gateway.backendProblem.message, generation),
  );
  if (gateway.insecureFrontendFallback) {
    conditions.push(
      condition(ConditionType.InsecureFrontendValidationMode, true, Reason.ConfigurationChanged, 'Client certificate validation allows insecure fallback', generation),
    );
  }
  return {
    kind: 'Gateway',
    namespace: gateway.meta.namespace,
    name: gateway.meta.name,
    generation,
    status: {
      conditions,
      listeners: listeners.map((listener) => listenerStatus(listener, generation)),
      attachedListenerSets: gateway.listenerSets.filter((set) => set.problem === undefined && set.listeners.some(isServing)).length,
    },
  };
}

export function listenerSetStatus(listenerSet: ListenerSetState): ObjectStatus {
  const generation = listenerSet.meta.generation;
  const conditions: TranslatedCondition[] = [];
  const problem = listenerSet.problem;
  const listeners = listenerSet.listeners;
  if (problem !== undefined) {
    conditions.push(condition(ConditionType.Accepted, false, problem.reason, problem.message, generation));
    conditions.push(condition(ConditionType.Programmed, false, problem.reason, problem.message, generation));
  } else if (!listeners.some(isServing)) {
    const message = withIgnored('No listener is valid', listenerSet.ignoredListeners);
    conditions.push(condition(ConditionType.Accepted, false, Reason.ListenersNotValid, message, generation));
    conditions.push(condition(ConditionType.Programmed, false, Reason.ListenersNotValid, message, generation));
  } else {
    const allValid = listeners.every(isFullyValid);
    conditions.push(
      allValid && listenerSet.ignoredListeners === undefined
        ? condition(ConditionType.Accepted, true, Reason.Accepted, 'ListenerSet is accepted', generation)
        : condition(
            ConditionType.Accepted,
            true,
            Reason.ListenersNotValid,
            withIgnored(allValid ? 'Some listener entries are not valid' : 'Some listeners are not valid', listenerSet.ignoredListeners),
            generation,
          ),
    );
    conditions.push(condition(ConditionType.Programmed, true, Reason.Programmed, 'Configuration is valid and published', generation));
  }
  return {
    kind: 'ListenerSet',
    namespace: listenerSet.meta.namespace,
    name: listenerSet.meta.name,
    generation,
    status: { conditions, listeners: problem === undefined ? listeners.map((listener) => listenerStatus(listener, generation)) : [] },
  };
}

function withIgnored(message: string, ignored: string | undefined): string {
  return ignored === undefined ? message : `${message}: ${ignored}`;
}

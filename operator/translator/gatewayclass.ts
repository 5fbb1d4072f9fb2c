/** GatewayClass: which classes are Weir's, whether they are Accepted, and their parameters. */
import { condition, ConditionType, Reason, type Problem } from './conditions.ts';
import { SUPPORTED_FEATURES } from './features.ts';
import type { GatewayClass } from '../../api-types/gateway-api/index.ts';
import type { Entry, Meta } from './meta.ts';
import { isParametersProblem, type ParametersIndex, type ParametersLayer } from './parameters.ts';
import type { ObjectStatus } from './status.ts';

export interface ClassState {
  readonly meta: Meta;
  /** Set when the class is not Accepted. */
  readonly problem?: Problem;
  readonly parameters?: ParametersLayer;
}

export function evaluateGatewayClasses(
  classes: readonly Entry<GatewayClass>[],
  controllerName: string,
  parameters: ParametersIndex,
): { states: Map<string, ClassState>; statuses: ObjectStatus[] } {
  const states = new Map<string, ClassState>();
  const statuses: ObjectStatus[] = [];
  for (const { meta, object } of classes) {
    if (object.spec.controllerName !== controllerName) continue;
    const layer = parameters.layer(object.spec.parametersRef, undefined);
    const state: ClassState =
      layer !== undefined && isParametersProblem(layer) ? { meta, problem: layer } : layer === undefined ? { meta } : { meta, parameters: layer };
    states.set(meta.name, state);
    const accepted =
      state.problem === undefined
        ? condition(ConditionType.Accepted, true, Reason.Accepted, 'Accepted by Weir', meta.generation)
        : condition(ConditionType.Accepted, false, state.problem.reason, state.problem.message, meta.generation);
    statuses.push({
      kind: 'GatewayClass',
      namespace: '',
      name: meta.name,
      generation: meta.generation,
      status: { conditions: [accepted], supportedFeatures: SUPPORTED_FEATURES.map((feature) => ({ name: feature })) },
    });
  }
  return { states, statuses };
}

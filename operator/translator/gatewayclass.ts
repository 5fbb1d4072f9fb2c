/** GatewayClass: which classes are Weir's, whether they are Accepted, and their parameters. */
import { condition, ConditionType, Reason, type Problem } from './conditions.ts';
import { SUPPORTED_FEATURES } from './features.ts';
import type { CustomResourceDefinition, GatewayClass } from '../../api-types/gateway-api/index.ts';
import type { Entry, Meta } from './meta.ts';
import { isParametersProblem, type ParametersIndex, type ParametersLayer } from './parameters.ts';
import type { ObjectStatus } from './status.ts';

export interface ClassState {
  readonly meta: Meta;
  /** Set when the class is not Accepted. */
  readonly problem?: Problem;
  readonly parameters?: ParametersLayer;
}

const GATEWAY_CLASS_CRD = 'gatewayclasses.gateway.networking.k8s.io';
const BUNDLE_VERSION_ANNOTATION = 'gateway.networking.k8s.io/bundle-version';
/** The Gateway API release Weir implements; patch releases keep the same API. */
const SUPPORTED_BUNDLE = /^v1\.7\.[0-9]+$/;

/**
 * The bundle version of the installed Gateway API CRDs: the GatewayClass CRD's annotation ('' when
 * it has none), or undefined without CRDs to read (standalone mode).
 */
export function gatewayApiBundleVersion(crds: readonly CustomResourceDefinition[]): string | undefined {
  const crd = crds.find((candidate) => candidate.metadata.name === GATEWAY_CLASS_CRD);
  if (crd === undefined) return undefined;
  return crd.metadata.annotations?.[BUNDLE_VERSION_ANNOTATION] ?? '';
}

function supportedVersion(bundleVersion: string | undefined, generation: number): ReturnType<typeof condition> {
  if (bundleVersion === undefined) return condition(ConditionType.SupportedVersion, true, Reason.SupportedVersion, 'No Gateway API CRDs to check (standalone); Weir implements v1.7', generation);
  if (SUPPORTED_BUNDLE.test(bundleVersion)) return condition(ConditionType.SupportedVersion, true, Reason.SupportedVersion, `Gateway API CRDs ${bundleVersion} are supported`, generation);
  const found = bundleVersion === '' ? `have no ${BUNDLE_VERSION_ANNOTATION} annotation` : `are ${bundleVersion}`;
  return condition(ConditionType.SupportedVersion, false, Reason.UnsupportedVersion, `The installed Gateway API CRDs ${found}; Weir supports v1.7.x`, generation);
}

export function evaluateGatewayClasses(
  classes: readonly Entry<GatewayClass>[],
  controllerName: string,
  parameters: ParametersIndex,
  bundleVersion: string | undefined,
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
      status: { conditions: [accepted, supportedVersion(bundleVersion, meta.generation)], supportedFeatures: SUPPORTED_FEATURES.map((feature) => ({ name: feature })) },
    });
  }
  return { states, statuses };
}

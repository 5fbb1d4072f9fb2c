/**
 * What the translator reports for each object. Shapes follow the Gateway API status types.
 *
 * - Conditions carry `observedGeneration` and no `lastTransitionTime` (see conditions.ts).
 * - Route `parents` and policy `ancestors` only hold entries for Weir's controller; the status
 *   writer must keep entries other controllers wrote (match on `controllerName`).
 * - Gateway `addresses` are not set here: the infra provisioner knows them.
 */
import type { TranslatedCondition } from './conditions.ts';

export interface GroupKind {
  readonly group: string;
  readonly kind: string;
}

export interface ListenerStatusOut {
  readonly name: string;
  readonly supportedKinds: readonly GroupKind[];
  readonly attachedRoutes: number;
  readonly conditions: readonly TranslatedCondition[];
}

export interface GatewayClassStatusOut {
  readonly conditions: readonly TranslatedCondition[];
  readonly supportedFeatures: readonly { readonly name: string }[];
}

export interface GatewayStatusOut {
  readonly conditions: readonly TranslatedCondition[];
  readonly listeners: readonly ListenerStatusOut[];
  readonly attachedListenerSets: number;
}

export interface ListenerSetStatusOut {
  readonly conditions: readonly TranslatedCondition[];
  readonly listeners: readonly ListenerStatusOut[];
}

/** A parentRef (or ancestorRef) with the spec's defaults filled in. */
export interface ParentRefOut {
  readonly group: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly sectionName?: string;
  readonly port?: number;
}

export interface RouteParentStatusOut {
  readonly parentRef: ParentRefOut;
  readonly controllerName: string;
  readonly conditions: readonly TranslatedCondition[];
}

export interface RouteStatusOut {
  readonly parents: readonly RouteParentStatusOut[];
}

export interface PolicyStatusOut {
  readonly ancestors: readonly { readonly ancestorRef: ParentRefOut; readonly controllerName: string; readonly conditions: readonly TranslatedCondition[] }[];
}

export type RouteKind = 'HTTPRoute' | 'GRPCRoute' | 'TLSRoute' | 'TCPRoute' | 'UDPRoute';
/** The route kinds whose rules proxy HTTP requests (rule actions, filters). */
export type ProxyRouteKind = Extract<RouteKind, 'HTTPRoute' | 'GRPCRoute'>;

interface StatusOf<K extends string, S> {
  readonly kind: K;
  /** Empty for cluster-scoped objects. */
  readonly namespace: string;
  readonly name: string;
  /** The generation the status was computed from. */
  readonly generation: number;
  readonly status: S;
}

export type ObjectStatus =
  | StatusOf<'GatewayClass', GatewayClassStatusOut>
  | StatusOf<'Gateway', GatewayStatusOut>
  | StatusOf<'ListenerSet', ListenerSetStatusOut>
  | StatusOf<RouteKind, RouteStatusOut>
  | StatusOf<'BackendTLSPolicy', PolicyStatusOut>;

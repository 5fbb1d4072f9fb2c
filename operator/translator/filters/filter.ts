/**
 * What one route filter is to the translator: where it may stand, which Gateway API features
 * it gives, and how its configuration becomes contract fields. Each filter is one file in this
 * folder, registered once in `index.ts`; the dataplane half lives in `dataplane/filters/`.
 */
import type { Mirror, RouteMatch, RuleAction } from '../../../api-types/dataplane-config.ts';
import type { RouteFilter } from '../../../api-types/gateway-api/index.ts';
import type { BackendUse, Backends, ResolvedCluster } from '../backends.ts';
import { Reason, type Problem } from '../conditions.ts';
import type { ProxyRouteKind, RouteKind } from '../status.ts';

/** Where a filter list stands: on a rule or on one of its backendRefs, of an HTTPRoute or a GRPCRoute. */
export type FilterPlace = `${ProxyRouteKind} ${'rule' | 'backendRef'}`;

/**
 * The contract fields filters fill: a `RuleAction`'s, except what the rule itself decides. A
 * backendRef's filters fill the same-named fields of its `WeightedBackend`.
 */
export type FilterFields = {
  -readonly [K in keyof Omit<RuleAction, 'id' | 'route' | 'ruleName' | 'directStatus' | 'mirrors' | 'backends' | 'timeouts' | 'retry' | 'sessionPersistence'>]?: RuleAction[K];
};

export interface FilterContext {
  readonly routeKind: RouteKind;
  readonly namespace: string;
  readonly backends: Backends;
  readonly use: BackendUse;
  /** The rule's matches (ReplacePrefixMatch needs PathPrefix ones). */
  readonly matches: readonly RouteMatch[];
}

/** What filters of one list contribute besides their fields. */
export interface FilterOutput {
  readonly mirrors: Mirror[];
  /** Clusters the filters send to (mirrors). */
  readonly clusters: ResolvedCluster[];
  /** A reference did not resolve (ResolvedRefs=False). */
  refProblem: Problem | undefined;
  /** The rule answers 500 instead of proxying (unresolvable ExtensionRef). */
  failClosed: boolean;
  /** Every request is answered by a filter (a redirect), so the rule needs no backend. */
  answersLocally: boolean;
}

export interface RouteFilterDefinition {
  /** The Gateway API filter `type`. */
  readonly type: string;
  readonly places: readonly FilterPlace[];
  /** Gateway API features (GatewayClass `supportedFeatures`) this filter provides. */
  readonly features: readonly string[];
  /** May appear more than once in one list. */
  readonly repeatable?: boolean;
  /** Filter types that cannot share a list with this one (IncompatibleFilters). */
  readonly incompatibleWith?: readonly string[];
  /** The filter's fields, a Problem that drops the rule, or undefined when it only adds to `output`. */
  translate(filter: RouteFilter, context: FilterContext, output: FilterOutput): FilterFields | Problem | undefined;
}

export function unsupported(message: string): Problem {
  return { reason: Reason.UnsupportedValue, message };
}

/**
 * Kubernetes object metadata and shared Gateway API reference types (v1.7.0).
 *
 * These describe what Weir reads; what it writes (statuses) is declared once, in
 * operator/translator/status.ts.
 *
 * Written by hand from the upstream Go types in `sigs.k8s.io/gateway-api@v1.7.0/apis/v1`,
 * because the published TypeScript model packages lag that release (ListenerSet, TLSRoute v1,
 * BackendTLSPolicy v1, `spec.tls.frontend/backend`, CORS, retry). Only fields Weir reads are
 * spelled out. Each TypeBox definition gives the static type and the runtime check the store
 * applies when an object enters it (operator/store/admission.ts).
 *
 * The checks are structural on purpose (a string is a string, a list is a list): the API server
 * already enforces the CRD's enums, patterns and ranges, and where an object breaks them anyway
 * (a YAML file in standalone mode) the translator answers with a status condition that names the
 * value. Numbers are `Type.Number`, not integers, for the same reason: the translator reports a
 * port of 1.5 as an invalid port rather than dropping the whole object.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';

export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';

export const StringMap = Type.Record(Type.String(), Type.String());
export type StringMap = Static<typeof StringMap>;

export const ObjectMeta = Type.Object({
  name: Type.String({ minLength: 1 }),
  namespace: Type.Optional(Type.String()),
  uid: Type.Optional(Type.String()),
  generation: Type.Optional(Type.Number()),
  resourceVersion: Type.Optional(Type.String()),
  /** RFC 3339; route precedence uses it ("oldest route wins"). */
  creationTimestamp: Type.Optional(Type.String()),
  labels: Type.Optional(StringMap),
  annotations: Type.Optional(StringMap),
  deletionTimestamp: Type.Optional(Type.String()),
});
export type ObjectMeta = Static<typeof ObjectMeta>;

/** A whole object: apiVersion, kind, metadata and the kind's own fields. */
export function kubeObject<Kind extends string, Fields extends Record<string, TSchema>>(kind: Kind, fields: Fields) {
  return Type.Object({ apiVersion: Type.String(), kind: Type.Literal(kind), metadata: ObjectMeta, ...fields });
}

export const LabelSelectorRequirement = Type.Object({
  key: Type.String(),
  /** `In`, `NotIn`, `Exists` or `DoesNotExist`; anything else makes the selector match nothing. */
  operator: Type.String(),
  values: Type.Optional(Type.Array(Type.String())),
});
export type LabelSelectorRequirement = Static<typeof LabelSelectorRequirement>;

export const LabelSelector = Type.Object({
  matchLabels: Type.Optional(StringMap),
  matchExpressions: Type.Optional(Type.Array(LabelSelectorRequirement)),
});
export type LabelSelector = Static<typeof LabelSelector>;

/** `from` is `All`, `Same`, `Selector` or `None`; the translator reports any other value. */
export const NamespacesFrom = Type.Object({
  from: Type.Optional(Type.String()),
  selector: Type.Optional(LabelSelector),
});
export type NamespacesFrom = Static<typeof NamespacesFrom>;

export const ParentReference = Type.Object({
  /** Default `gateway.networking.k8s.io`. */
  group: Type.Optional(Type.String()),
  /** Default `Gateway`. */
  kind: Type.Optional(Type.String()),
  /** Default: the route's namespace. */
  namespace: Type.Optional(Type.String()),
  name: Type.String(),
  sectionName: Type.Optional(Type.String()),
  port: Type.Optional(Type.Number()),
});
export type ParentReference = Static<typeof ParentReference>;

/** Group, kind, name and (where the kind allows one) namespace; defaults differ by use. */
export const ObjectReference = Type.Object({
  group: Type.Optional(Type.String()),
  kind: Type.Optional(Type.String()),
  name: Type.String(),
  namespace: Type.Optional(Type.String()),
});
export type ObjectReference = Static<typeof ObjectReference>;

export const BackendObjectReference = Type.Object({
  /** Default `""` (core). */
  group: Type.Optional(Type.String()),
  /** Default `Service`. */
  kind: Type.Optional(Type.String()),
  name: Type.String(),
  namespace: Type.Optional(Type.String()),
  /** Required when the referent is a Service. */
  port: Type.Optional(Type.Number()),
});
export type BackendObjectReference = Static<typeof BackendObjectReference>;

export const BackendRef = Type.Composite([BackendObjectReference, Type.Object({ weight: Type.Optional(Type.Number()) })]);
export type BackendRef = Static<typeof BackendRef>;

export const RouteGroupKind = Type.Object({
  /** Default `gateway.networking.k8s.io`. */
  group: Type.Optional(Type.String()),
  kind: Type.String(),
});
export type RouteGroupKind = Static<typeof RouteGroupKind>;

export const SessionPersistence = Type.Object({
  /** Gateway API duration, e.g. `1h`, `30s`, `500ms`. */
  absoluteTimeout: Type.Optional(Type.String()),
  /** `Cookie` (default) or `Header`. */
  type: Type.Optional(Type.String()),
  cookie: Type.Optional(
    Type.Object({
      name: Type.Optional(Type.String()),
      /** Defaults to `/`. */
      path: Type.Optional(Type.String()),
      /** `Session` (default) or `Permanent`. */
      lifetimeType: Type.Optional(Type.String()),
    }),
  ),
  header: Type.Optional(Type.Object({ name: Type.Optional(Type.String()) })),
});
export type SessionPersistence = Static<typeof SessionPersistence>;

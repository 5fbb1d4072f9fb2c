/**
 * Kubernetes object metadata and shared Gateway API reference types (v1.7.0).
 *
 * These interfaces describe the shape the API server (or a YAML file) delivers. They are
 * hand-written from the upstream Go types in `sigs.k8s.io/gateway-api@v1.7.0/apis/v1`
 * because the published TypeScript model packages lag that release (ListenerSet, TLSRoute v1,
 * BackendTLSPolicy v1, `spec.tls.frontend/backend`, CORS, retry). Only fields Weir reads are
 * spelled out; consumers must still treat incoming objects as untrusted input.
 */

export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly generation?: number;
  readonly resourceVersion?: string;
  /** RFC 3339; route precedence uses it ("oldest route wins"). */
  readonly creationTimestamp?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly deletionTimestamp?: string;
}

export interface KubeObject<Kind extends string, Spec> {
  readonly apiVersion: string;
  readonly kind: Kind;
  readonly metadata: ObjectMeta;
  readonly spec: Spec;
}

/** metav1.Condition as written to status. */
export interface Condition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  readonly observedGeneration?: number;
  readonly lastTransitionTime?: string;
}

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  readonly values?: readonly string[];
}

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

export interface ParentReference {
  /** Default `gateway.networking.k8s.io`. */
  readonly group?: string;
  /** Default `Gateway`. */
  readonly kind?: string;
  /** Default: the route's namespace. */
  readonly namespace?: string;
  readonly name: string;
  readonly sectionName?: string;
  readonly port?: number;
}

export interface LocalObjectReference {
  readonly group: string;
  readonly kind: string;
  readonly name: string;
}

export interface SecretObjectReference {
  /** Default `""` (core). */
  readonly group?: string;
  /** Default `Secret`. */
  readonly kind?: string;
  readonly name: string;
  readonly namespace?: string;
}

export interface ObjectReference {
  readonly group: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
}

export interface BackendObjectReference {
  /** Default `""` (core). */
  readonly group?: string;
  /** Default `Service`. */
  readonly kind?: string;
  readonly name: string;
  readonly namespace?: string;
  /** Required when the referent is a Service. */
  readonly port?: number;
}

export interface BackendRef extends BackendObjectReference {
  /** Default 1. */
  readonly weight?: number;
}

export interface RouteGroupKind {
  /** Default `gateway.networking.k8s.io`. */
  readonly group?: string;
  readonly kind: string;
}

export interface RouteParentStatus {
  readonly parentRef: ParentReference;
  readonly controllerName: string;
  readonly conditions: readonly Condition[];
}

export interface SessionPersistence {
  readonly sessionName?: string;
  /** Gateway API duration, e.g. `1h`, `30s`, `500ms`. */
  readonly absoluteTimeout?: string;
  /** Default `Cookie`. */
  readonly type?: 'Cookie' | 'Header';
  readonly cookieConfig?: { readonly lifetimeType?: 'Session' | 'Permanent' };
}

export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';

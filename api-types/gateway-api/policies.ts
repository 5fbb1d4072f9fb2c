/** ReferenceGrant and BackendTLSPolicy (gateway.networking.k8s.io/v1, v1.7.0). */
import type { Condition, KubeObject, LocalObjectReference, ParentReference } from './meta.ts';

export interface ReferenceGrantSpec {
  readonly from: readonly { readonly group: string; readonly kind: string; readonly namespace: string }[];
  /** `name` absent grants every object of that group/kind in the grant's namespace. */
  readonly to: readonly { readonly group: string; readonly kind: string; readonly name?: string }[];
}

export type ReferenceGrant = KubeObject<'ReferenceGrant', ReferenceGrantSpec>;

export interface BackendTLSPolicySpec {
  readonly targetRefs: readonly { readonly group: string; readonly kind: string; readonly name: string; readonly sectionName?: string }[];
  readonly validation: {
    /** ConfigMaps (core group) holding `ca.crt`. */
    readonly caCertificateRefs?: readonly LocalObjectReference[];
    readonly wellKnownCACertificates?: 'System';
    readonly hostname: string;
    readonly subjectAltNames?: readonly { readonly type: 'Hostname' | 'URI'; readonly hostname?: string; readonly uri?: string }[];
  };
  readonly options?: Readonly<Record<string, string>>;
}

export interface PolicyAncestorStatus {
  readonly ancestorRef: ParentReference;
  readonly controllerName: string;
  readonly conditions: readonly Condition[];
}

export type BackendTLSPolicy = KubeObject<'BackendTLSPolicy', BackendTLSPolicySpec>;

/** GatewayClass, Gateway and ListenerSet (gateway.networking.k8s.io/v1, v1.7.0). */
import type { Condition, KubeObject, LabelSelector, ObjectReference, RouteGroupKind, SecretObjectReference } from './meta.ts';

export interface ParametersReference {
  readonly group: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
}

export interface GatewayClassSpec {
  readonly controllerName: string;
  readonly parametersRef?: ParametersReference;
  readonly description?: string;
}

export interface GatewayClassStatus {
  readonly conditions: readonly Condition[];
  readonly supportedFeatures: readonly { readonly name: string }[];
}

export type GatewayClass = KubeObject<'GatewayClass', GatewayClassSpec>;

export type FromNamespaces = 'All' | 'Same' | 'Selector' | 'None';

export interface AllowedRoutes {
  readonly namespaces?: { readonly from?: FromNamespaces; readonly selector?: LabelSelector };
  readonly kinds?: readonly RouteGroupKind[];
}

export interface ListenerTLSConfig {
  /** Default `Terminate`. */
  readonly mode?: 'Terminate' | 'Passthrough';
  readonly certificateRefs?: readonly SecretObjectReference[];
  readonly options?: Readonly<Record<string, string>>;
}

export interface Listener {
  readonly name: string;
  readonly hostname?: string;
  readonly port: number;
  readonly protocol: string;
  readonly tls?: ListenerTLSConfig;
  readonly allowedRoutes?: AllowedRoutes;
}

export interface FrontendTLSValidation {
  /** ConfigMaps (or Secrets) holding `ca.crt`. */
  readonly caCertificateRefs: readonly ObjectReference[];
  /** Default `AllowValidOnly`. */
  readonly mode?: 'AllowValidOnly' | 'AllowInsecureFallback';
}

export interface FrontendTLSConfig {
  readonly default: { readonly validation?: FrontendTLSValidation };
  readonly perPort?: readonly { readonly port: number; readonly tls: { readonly validation?: FrontendTLSValidation } }[];
}

export interface GatewayTLSConfig {
  readonly backend?: { readonly clientCertificateRef?: SecretObjectReference };
  readonly frontend?: FrontendTLSConfig;
}

export interface GatewaySpecAddress {
  /** Default `IPAddress`. */
  readonly type?: string;
  readonly value?: string;
  /** Empty (the implementation's default), `Cluster`, or an implementation-specific prefixed value. */
  readonly routability?: string;
}

export interface GatewayInfrastructure {
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly parametersRef?: { readonly group: string; readonly kind: string; readonly name: string };
}

export interface GatewaySpec {
  readonly gatewayClassName: string;
  readonly listeners: readonly Listener[];
  readonly addresses?: readonly GatewaySpecAddress[];
  readonly infrastructure?: GatewayInfrastructure;
  /** Which ListenerSets may attach. Default: none. */
  readonly allowedListeners?: { readonly namespaces?: { readonly from?: FromNamespaces; readonly selector?: LabelSelector } };
  readonly tls?: GatewayTLSConfig;
  readonly defaultScope?: 'All' | 'None';
}

export interface ListenerStatus {
  readonly name: string;
  readonly supportedKinds: readonly RouteGroupKind[];
  readonly attachedRoutes: number;
  readonly conditions: readonly Condition[];
}

export interface GatewayStatus {
  readonly addresses?: readonly { readonly type?: string; readonly value: string; readonly routability?: string }[];
  readonly conditions: readonly Condition[];
  readonly listeners: readonly ListenerStatus[];
  readonly attachedListenerSets?: number;
}

export type Gateway = KubeObject<'Gateway', GatewaySpec>;

export interface ListenerSetSpec {
  readonly parentRef: { readonly group?: string; readonly kind?: string; readonly name: string; readonly namespace?: string };
  readonly listeners: readonly Listener[];
}

export interface ListenerSetStatus {
  readonly conditions: readonly Condition[];
  readonly listeners: readonly ListenerStatus[];
}

export type ListenerSet = KubeObject<'ListenerSet', ListenerSetSpec>;

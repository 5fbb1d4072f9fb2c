/** GatewayClass, Gateway and ListenerSet (gateway.networking.k8s.io/v1, v1.7.0). */
import { Type, type Static } from '@sinclair/typebox';
import { kubeObject, NamespacesFrom, ObjectReference, RouteGroupKind, StringMap } from './meta.ts';

export const ParametersReference = Type.Object({
  group: Type.String(),
  kind: Type.String(),
  name: Type.String(),
  namespace: Type.Optional(Type.String()),
});
export type ParametersReference = Static<typeof ParametersReference>;

export const GatewayClass = kubeObject('GatewayClass', {
  spec: Type.Object({
    controllerName: Type.String(),
    parametersRef: Type.Optional(ParametersReference),
    description: Type.Optional(Type.String()),
  }),
});
export type GatewayClass = Static<typeof GatewayClass>;

export const AllowedRoutes = Type.Object({
  namespaces: Type.Optional(NamespacesFrom),
  kinds: Type.Optional(Type.Array(RouteGroupKind)),
});
export type AllowedRoutes = Static<typeof AllowedRoutes>;

export const ListenerTLSConfig = Type.Object({
  /** `Terminate` (default) or `Passthrough`. */
  mode: Type.Optional(Type.String()),
  certificateRefs: Type.Optional(Type.Array(ObjectReference)),
  options: Type.Optional(StringMap),
});
export type ListenerTLSConfig = Static<typeof ListenerTLSConfig>;

export const Listener = Type.Object({
  name: Type.String(),
  hostname: Type.Optional(Type.String()),
  port: Type.Number(),
  protocol: Type.String(),
  tls: Type.Optional(ListenerTLSConfig),
  allowedRoutes: Type.Optional(AllowedRoutes),
  /** v1.7.0 pre-routing filters (ExternalAuth, ExtensionRef); Weir does not serve a listener that has any. */
  filters: Type.Optional(Type.Object({ requests: Type.Optional(Type.Array(Type.Object({ type: Type.String() }))) })),
});
export type Listener = Static<typeof Listener>;

export const FrontendTLSValidation = Type.Object({
  /** ConfigMaps (or Secrets) holding `ca.crt`. */
  caCertificateRefs: Type.Optional(Type.Array(ObjectReference)),
  /** `AllowValidOnly` (default) or `AllowInsecureFallback`. */
  mode: Type.Optional(Type.String()),
});
export type FrontendTLSValidation = Static<typeof FrontendTLSValidation>;

export const FrontendTLSConfig = Type.Object({
  default: Type.Optional(Type.Object({ validation: Type.Optional(FrontendTLSValidation) })),
  perPort: Type.Optional(Type.Array(Type.Object({ port: Type.Number(), tls: Type.Optional(Type.Object({ validation: Type.Optional(FrontendTLSValidation) })) }))),
});
export type FrontendTLSConfig = Static<typeof FrontendTLSConfig>;

export const GatewaySpecAddress = Type.Object({
  /** Default `IPAddress`. */
  type: Type.Optional(Type.String()),
  value: Type.Optional(Type.String()),
  /** Empty (the implementation's default), `Cluster`, or an implementation-specific prefixed value. */
  routability: Type.Optional(Type.String()),
});
export type GatewaySpecAddress = Static<typeof GatewaySpecAddress>;

export const GatewayInfrastructure = Type.Object({
  labels: Type.Optional(StringMap),
  annotations: Type.Optional(StringMap),
  parametersRef: Type.Optional(ParametersReference),
});
export type GatewayInfrastructure = Static<typeof GatewayInfrastructure>;

export const GatewaySpec = Type.Object({
  gatewayClassName: Type.String(),
  listeners: Type.Array(Listener),
  addresses: Type.Optional(Type.Array(GatewaySpecAddress)),
  infrastructure: Type.Optional(GatewayInfrastructure),
  /** Which ListenerSets may attach. Default: none. */
  allowedListeners: Type.Optional(Type.Object({ namespaces: Type.Optional(NamespacesFrom) })),
  tls: Type.Optional(
    Type.Object({
      backend: Type.Optional(Type.Object({ clientCertificateRef: Type.Optional(ObjectReference) })),
      frontend: Type.Optional(FrontendTLSConfig),
    }),
  ),
  defaultScope: Type.Optional(Type.String()),
});
export type GatewaySpec = Static<typeof GatewaySpec>;

export const Gateway = kubeObject('Gateway', { spec: GatewaySpec });
export type Gateway = Static<typeof Gateway>;

export const ListenerSet = kubeObject('ListenerSet', {
  spec: Type.Object({
    parentRef: ObjectReference,
    listeners: Type.Array(Listener),
  }),
});
export type ListenerSet = Static<typeof ListenerSet>;

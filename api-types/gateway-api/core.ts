/** The core Kubernetes objects Weir reads, reduced to the fields it uses. */
import { Type, type Static } from '@sinclair/typebox';
import { kubeObject, StringMap } from './meta.ts';

export const ServicePort = Type.Object({
  name: Type.Optional(Type.String()),
  protocol: Type.Optional(Type.String()),
  port: Type.Number(),
  targetPort: Type.Optional(Type.Union([Type.Number(), Type.String()])),
  /** e.g. `kubernetes.io/h2c`, `kubernetes.io/ws`, `kubernetes.io/wss`, `https`. */
  appProtocol: Type.Optional(Type.String()),
});
export type ServicePort = Static<typeof ServicePort>;

export const Service = kubeObject('Service', {
  spec: Type.Object({
    type: Type.Optional(Type.String()),
    /** `None` for a headless Service. */
    clusterIP: Type.Optional(Type.String()),
    selector: Type.Optional(StringMap),
    ports: Type.Optional(Type.Array(ServicePort)),
    externalName: Type.Optional(Type.String()),
  }),
});
export type Service = Static<typeof Service>;

/** The owning Service is named by the label `kubernetes.io/service-name`. */
export const EndpointSlice = kubeObject('EndpointSlice', {
  addressType: Type.String(),
  endpoints: Type.Optional(
    Type.Array(
      Type.Object({
        addresses: Type.Array(Type.String()),
        conditions: Type.Optional(
          Type.Object({ ready: Type.Optional(Type.Boolean()), serving: Type.Optional(Type.Boolean()), terminating: Type.Optional(Type.Boolean()) }),
        ),
      }),
    ),
  ),
  ports: Type.Optional(
    Type.Array(
      Type.Object({ name: Type.Optional(Type.String()), port: Type.Optional(Type.Number()), protocol: Type.Optional(Type.String()), appProtocol: Type.Optional(Type.String()) }),
    ),
  ),
});
export type EndpointSlice = Static<typeof EndpointSlice>;

export const Secret = kubeObject('Secret', {
  type: Type.Optional(Type.String()),
  /** Base64-encoded values, as the API server returns them. */
  data: Type.Optional(StringMap),
  /** Plain values (YAML input in standalone mode). */
  stringData: Type.Optional(StringMap),
});
export type Secret = Static<typeof Secret>;

export const ConfigMap = kubeObject('ConfigMap', { data: Type.Optional(StringMap) });
export type ConfigMap = Static<typeof ConfigMap>;

export const Namespace = kubeObject('Namespace', {});

/** Only the metadata is read: the Gateway API bundle version annotation of its CRDs. */
export const CustomResourceDefinition = kubeObject('CustomResourceDefinition', {});
export type CustomResourceDefinition = Static<typeof CustomResourceDefinition>;
export type Namespace = Static<typeof Namespace>;

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

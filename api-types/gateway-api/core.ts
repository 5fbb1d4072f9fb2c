/** The core Kubernetes objects Weir reads, reduced to the fields it uses. */
import type { ObjectMeta } from './meta.ts';

export interface ServicePort {
  readonly name?: string;
  readonly protocol?: string;
  readonly port: number;
  readonly targetPort?: number | string;
  /** e.g. `kubernetes.io/h2c`, `kubernetes.io/ws`, `kubernetes.io/wss`, `https`. */
  readonly appProtocol?: string;
}

export interface Service {
  readonly apiVersion: string;
  readonly kind: 'Service';
  readonly metadata: ObjectMeta;
  readonly spec: {
    readonly type?: string;
    /** `None` for a headless Service. */
    readonly clusterIP?: string;
    readonly selector?: Readonly<Record<string, string>>;
    readonly ports?: readonly ServicePort[];
    readonly externalName?: string;
  };
}

export interface EndpointSlice {
  readonly apiVersion: string;
  readonly kind: 'EndpointSlice';
  /** The owning Service is named by the label `kubernetes.io/service-name`. */
  readonly metadata: ObjectMeta;
  readonly addressType: 'IPv4' | 'IPv6' | 'FQDN';
  readonly endpoints?: readonly {
    readonly addresses: readonly string[];
    readonly conditions?: { readonly ready?: boolean; readonly serving?: boolean; readonly terminating?: boolean };
  }[];
  readonly ports?: readonly { readonly name?: string; readonly port?: number; readonly protocol?: string; readonly appProtocol?: string }[];
}

export interface Secret {
  readonly apiVersion: string;
  readonly kind: 'Secret';
  readonly metadata: ObjectMeta;
  readonly type?: string;
  /** Base64-encoded values, as the API server returns them. */
  readonly data?: Readonly<Record<string, string>>;
  /** Plain values (YAML input in standalone mode). */
  readonly stringData?: Readonly<Record<string, string>>;
}

export interface ConfigMap {
  readonly apiVersion: string;
  readonly kind: 'ConfigMap';
  readonly metadata: ObjectMeta;
  readonly data?: Readonly<Record<string, string>>;
}

export interface Namespace {
  readonly apiVersion: string;
  readonly kind: 'Namespace';
  readonly metadata: ObjectMeta;
}

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

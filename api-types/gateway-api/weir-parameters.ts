/**
 * WeirParameters (`gateway.weir.dev/v1alpha1`): Weir's GatewayClass/Gateway parameters
 * resource. Referenced from `GatewayClass.spec.parametersRef` (namespaced; the namespace is
 * required) or `Gateway.spec.infrastructure.parametersRef` (same namespace as the Gateway).
 */
import { Type, type Static } from '@sinclair/typebox';
import { kubeObject } from './meta.ts';

export const WEIR_PARAMETERS_GROUP = 'gateway.weir.dev';
export const WEIR_PARAMETERS_KIND = 'WeirParameters';
export const WEIR_PARAMETERS_API_VERSION = 'gateway.weir.dev/v1alpha1';

export type XfccMode = 'Sanitize' | 'ForwardOnly' | 'AppendForward' | 'SanitizeSet' | 'AlwaysForwardOnly';

export interface WeirParametersSpec {
  /** Client certificate forwarding. Default: SanitizeSet with Subject, URI and DNS (Hash and By are always set). */
  readonly xfcc?: {
    readonly mode?: XfccMode;
    readonly details?: {
      readonly subject?: boolean;
      readonly cert?: boolean;
      readonly chain?: boolean;
      readonly uri?: boolean;
      readonly dns?: boolean;
    };
  };
  /** Proxies in front of the Gateway trusted to set X-Forwarded-*. Default 0. */
  readonly trustedProxyHops?: number;
  /**
   * Client and backend resource limits; durations are Gateway API durations (`10s`, `1m30s`).
   * Defaults in api-types/limits.ts (`DEFAULT_LIMITS`) and the README.
   */
  readonly limits?: {
    readonly headersTimeout?: string;
    readonly requestReceiveTimeout?: string;
    readonly idleTimeout?: string;
    readonly tunnelIdleTimeout?: string;
    readonly maxConnections?: number;
    readonly http2MaxConcurrentStreams?: number;
    readonly backendMaxConnections?: number;
    readonly backendMaxPendingRequests?: number;
  };
  /** Dataplane container image; default: the operator's configured image. */
  readonly image?: string;
  /** Dataplane replicas. Default 1. */
  readonly replicas?: number;
  /** Dataplane container resources (core/v1 ResourceRequirements). */
  readonly resources?: {
    readonly requests?: Readonly<Record<string, string>>;
    readonly limits?: Readonly<Record<string, string>>;
  };
  /** Type of the per-Gateway Service. Default: the operator's configured default. */
  readonly serviceType?: 'ClusterIP' | 'NodePort' | 'LoadBalancer';
  // Request hardening (see README, "Request hardening").
  /** Path normalisation before matching. Default: merge slashes, reject encoded `/` and `\`. */
  readonly pathNormalization?: {
    readonly mergeSlashes?: boolean;
    readonly escapedSlashes?: 'Reject' | 'Keep' | 'Decode';
  };
  /** Request tracing; the process's `OTEL_*` settings apply where unset. */
  readonly tracing?: {
    /** Percent (0–100) of new request traces sampled. */
    readonly samplingPercent?: number;
    /** `Continue` (default) an incoming `traceparent`'s trace, or `Ignore` it and start a new one linked to it. */
    readonly incomingContext?: 'Continue' | 'Ignore';
  };
  /** TLS accepted from clients. Default: TLS 1.2+, ECDHE with AEAD suites only on TLS 1.2. */
  readonly frontendTls?: {
    readonly minVersion?: 'TLSv1.2' | 'TLSv1.3';
    /** OpenSSL names of TLS 1.2 suites, in preference order. */
    readonly cipherSuites?: readonly string[];
  };
}

/**
 * The store admits any `spec`: the translator checks it field by field (operator/translator/parameters.ts)
 * and answers a bad one with `InvalidParameters` on the GatewayClass or Gateway that refers to it,
 * which tells the user more than dropping the object would. `WeirParametersSpec` is the shape it accepts.
 */
export const WeirParameters = kubeObject('WeirParameters', { spec: Type.Optional(Type.Unknown()) });
export type WeirParameters = Static<typeof WeirParameters>;

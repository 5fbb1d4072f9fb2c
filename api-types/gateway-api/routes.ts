/** HTTPRoute, GRPCRoute, TLSRoute, TCPRoute, UDPRoute (gateway.networking.k8s.io/v1, v1.7.0). */
import type { BackendObjectReference, BackendRef, KubeObject, LocalObjectReference, ParentReference, RouteParentStatus, SessionPersistence } from './meta.ts';

export interface CommonRouteSpec {
  readonly parentRefs?: readonly ParentReference[];
}

export interface HTTPHeader {
  readonly name: string;
  readonly value: string;
}

export interface HTTPHeaderFilter {
  readonly set?: readonly HTTPHeader[];
  readonly add?: readonly HTTPHeader[];
  readonly remove?: readonly string[];
}

export interface HTTPPathModifier {
  readonly type: 'ReplaceFullPath' | 'ReplacePrefixMatch';
  readonly replaceFullPath?: string;
  readonly replacePrefixMatch?: string;
}

export interface HTTPRequestRedirectFilter {
  readonly scheme?: 'http' | 'https';
  readonly hostname?: string;
  readonly path?: HTTPPathModifier;
  readonly port?: number;
  /** Default 302. */
  readonly statusCode?: number;
}

export interface HTTPURLRewriteFilter {
  readonly hostname?: string;
  readonly path?: HTTPPathModifier;
}

export interface HTTPRequestMirrorFilter {
  readonly backendRef: BackendObjectReference;
  readonly percent?: number;
  readonly fraction?: { readonly numerator: number; readonly denominator?: number };
}

export interface HTTPCORSFilter {
  readonly allowOrigins?: readonly string[];
  readonly allowCredentials?: boolean;
  readonly allowMethods?: readonly string[];
  readonly allowHeaders?: readonly string[];
  readonly exposeHeaders?: readonly string[];
  /** Seconds; default 5. */
  readonly maxAge?: number;
}

export interface HTTPRouteFilter {
  readonly type: string;
  readonly requestHeaderModifier?: HTTPHeaderFilter;
  readonly responseHeaderModifier?: HTTPHeaderFilter;
  readonly requestMirror?: HTTPRequestMirrorFilter;
  readonly requestRedirect?: HTTPRequestRedirectFilter;
  readonly urlRewrite?: HTTPURLRewriteFilter;
  readonly cors?: HTTPCORSFilter;
  readonly extensionRef?: LocalObjectReference;
}

export interface HTTPRouteMatch {
  /** Default `{ type: PathPrefix, value: "/" }`. */
  readonly path?: { readonly type?: 'Exact' | 'PathPrefix' | 'RegularExpression'; readonly value?: string };
  readonly headers?: readonly { readonly type?: 'Exact' | 'RegularExpression'; readonly name: string; readonly value: string }[];
  readonly queryParams?: readonly { readonly type?: 'Exact' | 'RegularExpression'; readonly name: string; readonly value: string }[];
  readonly method?: string;
}

export interface HTTPBackendRef extends BackendRef {
  readonly filters?: readonly HTTPRouteFilter[];
}

export interface HTTPRouteRule {
  readonly name?: string;
  readonly matches?: readonly HTTPRouteMatch[];
  readonly filters?: readonly HTTPRouteFilter[];
  readonly backendRefs?: readonly HTTPBackendRef[];
  readonly timeouts?: { readonly request?: string; readonly backendRequest?: string };
  readonly retry?: { readonly codes?: readonly number[]; readonly attempts?: number; readonly backoff?: string };
  readonly sessionPersistence?: SessionPersistence;
}

export interface HTTPRouteSpec extends CommonRouteSpec {
  readonly hostnames?: readonly string[];
  readonly rules?: readonly HTTPRouteRule[];
}

export interface RouteStatus {
  readonly parents: readonly RouteParentStatus[];
}

export type HTTPRoute = KubeObject<'HTTPRoute', HTTPRouteSpec>;

export interface GRPCRouteMatch {
  readonly method?: { readonly type?: 'Exact' | 'RegularExpression'; readonly service?: string; readonly method?: string };
  readonly headers?: readonly { readonly type?: 'Exact' | 'RegularExpression'; readonly name: string; readonly value: string }[];
}

export interface GRPCRouteFilter {
  readonly type: string;
  readonly requestHeaderModifier?: HTTPHeaderFilter;
  readonly responseHeaderModifier?: HTTPHeaderFilter;
  readonly requestMirror?: HTTPRequestMirrorFilter;
  readonly extensionRef?: LocalObjectReference;
}

export interface GRPCBackendRef extends BackendRef {
  readonly filters?: readonly GRPCRouteFilter[];
}

export interface GRPCRouteRule {
  readonly name?: string;
  readonly matches?: readonly GRPCRouteMatch[];
  readonly filters?: readonly GRPCRouteFilter[];
  readonly backendRefs?: readonly GRPCBackendRef[];
  readonly sessionPersistence?: SessionPersistence;
}

export interface GRPCRouteSpec extends CommonRouteSpec {
  readonly hostnames?: readonly string[];
  readonly rules?: readonly GRPCRouteRule[];
}

export type GRPCRoute = KubeObject<'GRPCRoute', GRPCRouteSpec>;

export interface StreamRouteRule {
  readonly name?: string;
  readonly backendRefs?: readonly BackendRef[];
}

export interface TLSRouteSpec extends CommonRouteSpec {
  readonly hostnames?: readonly string[];
  readonly rules?: readonly StreamRouteRule[];
}

export type TLSRoute = KubeObject<'TLSRoute', TLSRouteSpec>;

export interface TCPRouteSpec extends CommonRouteSpec {
  readonly rules?: readonly StreamRouteRule[];
}

export type TCPRoute = KubeObject<'TCPRoute', TCPRouteSpec>;

export interface UDPRouteSpec extends CommonRouteSpec {
  readonly rules?: readonly StreamRouteRule[];
}

export type UDPRoute = KubeObject<'UDPRoute', UDPRouteSpec>;

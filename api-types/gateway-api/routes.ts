/** HTTPRoute, GRPCRoute, TLSRoute, TCPRoute, UDPRoute (gateway.networking.k8s.io/v1, v1.7.0). */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { BackendObjectReference, BackendRef, kubeObject, ObjectReference, ParentReference, SessionPersistence } from './meta.ts';

export const HTTPHeader = Type.Object({ name: Type.String(), value: Type.String() });
export type HTTPHeader = Static<typeof HTTPHeader>;

export const HTTPHeaderFilter = Type.Object({
  set: Type.Optional(Type.Array(HTTPHeader)),
  add: Type.Optional(Type.Array(HTTPHeader)),
  remove: Type.Optional(Type.Array(Type.String())),
});
export type HTTPHeaderFilter = Static<typeof HTTPHeaderFilter>;

export const HTTPPathModifier = Type.Object({
  /** `ReplaceFullPath` or `ReplacePrefixMatch`. */
  type: Type.String(),
  replaceFullPath: Type.Optional(Type.String()),
  replacePrefixMatch: Type.Optional(Type.String()),
});
export type HTTPPathModifier = Static<typeof HTTPPathModifier>;

export const HTTPRequestRedirectFilter = Type.Object({
  scheme: Type.Optional(Type.String()),
  hostname: Type.Optional(Type.String()),
  path: Type.Optional(HTTPPathModifier),
  port: Type.Optional(Type.Number()),
  /** Default 302. */
  statusCode: Type.Optional(Type.Number()),
});
export type HTTPRequestRedirectFilter = Static<typeof HTTPRequestRedirectFilter>;

export const HTTPURLRewriteFilter = Type.Object({
  hostname: Type.Optional(Type.String()),
  path: Type.Optional(HTTPPathModifier),
});
export type HTTPURLRewriteFilter = Static<typeof HTTPURLRewriteFilter>;

export const HTTPRequestMirrorFilter = Type.Object({
  backendRef: BackendObjectReference,
  percent: Type.Optional(Type.Number()),
  fraction: Type.Optional(Type.Object({ numerator: Type.Number(), denominator: Type.Optional(Type.Number()) })),
});
export type HTTPRequestMirrorFilter = Static<typeof HTTPRequestMirrorFilter>;

export const HTTPCORSFilter = Type.Object({
  allowOrigins: Type.Optional(Type.Array(Type.String())),
  allowCredentials: Type.Optional(Type.Boolean()),
  allowMethods: Type.Optional(Type.Array(Type.String())),
  allowHeaders: Type.Optional(Type.Array(Type.String())),
  exposeHeaders: Type.Optional(Type.Array(Type.String())),
  /** Seconds; default 5. */
  maxAge: Type.Optional(Type.Number()),
});
export type HTTPCORSFilter = Static<typeof HTTPCORSFilter>;

/** One shape for HTTPRoute, GRPCRoute and backendRef filters; which `type`s a place allows is the translator's call. */
export const RouteFilter = Type.Object({
  type: Type.String(),
  requestHeaderModifier: Type.Optional(HTTPHeaderFilter),
  responseHeaderModifier: Type.Optional(HTTPHeaderFilter),
  requestMirror: Type.Optional(HTTPRequestMirrorFilter),
  requestRedirect: Type.Optional(HTTPRequestRedirectFilter),
  urlRewrite: Type.Optional(HTTPURLRewriteFilter),
  cors: Type.Optional(HTTPCORSFilter),
  extensionRef: Type.Optional(ObjectReference),
});
export type RouteFilter = Static<typeof RouteFilter>;

export const ValueMatch = Type.Object({
  /** `Exact` (default) or `RegularExpression`. */
  type: Type.Optional(Type.String()),
  name: Type.String(),
  value: Type.String(),
});
export type ValueMatch = Static<typeof ValueMatch>;

export const HTTPRouteMatch = Type.Object({
  /** Default `{ type: PathPrefix, value: "/" }`. */
  path: Type.Optional(Type.Object({ type: Type.Optional(Type.String()), value: Type.Optional(Type.String()) })),
  headers: Type.Optional(Type.Array(ValueMatch)),
  queryParams: Type.Optional(Type.Array(ValueMatch)),
  method: Type.Optional(Type.String()),
});
export type HTTPRouteMatch = Static<typeof HTTPRouteMatch>;

export const RouteBackendRef = Type.Composite([BackendRef, Type.Object({ filters: Type.Optional(Type.Array(RouteFilter)) })]);
export type RouteBackendRef = Static<typeof RouteBackendRef>;

/** The fields every HTTPRoute and GRPCRoute rule has, around its kind's match. */
function proxyRouteRule<Match extends TSchema>(match: Match) {
  return Type.Object({
    name: Type.Optional(Type.String()),
    matches: Type.Optional(Type.Array(match)),
    filters: Type.Optional(Type.Array(RouteFilter)),
    backendRefs: Type.Optional(Type.Array(RouteBackendRef)),
    sessionPersistence: Type.Optional(SessionPersistence),
  });
}

/** A route kind's `spec`: parentRefs, (for kinds that have them) hostnames, and its rules. */
function routeSpec<Rule extends TSchema>(rule: Rule) {
  return Type.Object({
    parentRefs: Type.Optional(Type.Array(ParentReference)),
    hostnames: Type.Optional(Type.Array(Type.String())),
    rules: Type.Optional(Type.Array(rule)),
  });
}

export const HTTPRouteRule = Type.Composite([
  proxyRouteRule(HTTPRouteMatch),
  Type.Object({
    timeouts: Type.Optional(Type.Object({ request: Type.Optional(Type.String()), backendRequest: Type.Optional(Type.String()) })),
    retry: Type.Optional(Type.Object({ codes: Type.Optional(Type.Array(Type.Number())), attempts: Type.Optional(Type.Number()), backoff: Type.Optional(Type.String()) })),
  }),
]);
export type HTTPRouteRule = Static<typeof HTTPRouteRule>;

export const HTTPRoute = kubeObject('HTTPRoute', { spec: routeSpec(HTTPRouteRule) });
export type HTTPRoute = Static<typeof HTTPRoute>;

export const GRPCRouteMatch = Type.Object({
  method: Type.Optional(Type.Object({ type: Type.Optional(Type.String()), service: Type.Optional(Type.String()), method: Type.Optional(Type.String()) })),
  headers: Type.Optional(Type.Array(ValueMatch)),
});
export type GRPCRouteMatch = Static<typeof GRPCRouteMatch>;

export const GRPCRouteRule = proxyRouteRule(GRPCRouteMatch);
export type GRPCRouteRule = Static<typeof GRPCRouteRule>;

export const GRPCRoute = kubeObject('GRPCRoute', { spec: routeSpec(GRPCRouteRule) });
export type GRPCRoute = Static<typeof GRPCRoute>;

export const StreamRouteRule = Type.Object({
  name: Type.Optional(Type.String()),
  backendRefs: Type.Optional(Type.Array(BackendRef)),
});
export type StreamRouteRule = Static<typeof StreamRouteRule>;

export const TLSRoute = kubeObject('TLSRoute', { spec: routeSpec(StreamRouteRule) });
export type TLSRoute = Static<typeof TLSRoute>;

export const TCPRoute = kubeObject('TCPRoute', { spec: Type.Omit(routeSpec(StreamRouteRule), ['hostnames']) });
export type TCPRoute = Static<typeof TCPRoute>;

export const UDPRoute = kubeObject('UDPRoute', { spec: Type.Omit(routeSpec(StreamRouteRule), ['hostnames']) });
export type UDPRoute = Static<typeof UDPRoute>;

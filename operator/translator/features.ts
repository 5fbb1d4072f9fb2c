import { FILTER_FEATURES } from './filters/index.ts';

/**
 * The one list of Gateway API features Weir reports in `GatewayClass.status.supportedFeatures`.
 *
 * A feature is listed only when both the translator and the DataplaneConfig contract carry it.
 * Not listed on purpose: GatewayStaticAddresses (Weir does not assign requested addresses),
 * GatewayListenerFilters (a listener with filters is not Accepted) and ClusterTrustBundle (not
 * watched; such CA refs are reported as an unsupported kind).
 * Route filters declare their own features (`filters/`); the rest are listed here.
 * `tests/golden/supported-features.yaml` pins the result.
 */
const CORE_FEATURES: readonly string[] = [
  'BackendTLSPolicy',
  'BackendTLSPolicySANValidation',
  'GRPCRoute',
  'GRPCRouteNamedRouteRule',
  'Gateway',
  'GatewayAddressEmpty',
  'GatewayAddressRoutability',
  'GatewayAddressRoutabilityCluster',
  'GatewayBackendClientCertificate',
  'GatewayFrontendClientCertificateValidation',
  'GatewayFrontendClientCertificateValidationInsecureFallback',
  'GatewayHTTPListenerIsolation',
  'GatewayHTTPSListenerDetectMisdirectedRequests',
  'GatewayInfrastructure',
  'GatewayPort8080',
  'GatewayRouteHostnameIntersectionPrecedence',
  'HTTPRoute',
  'HTTPRouteBackendProtocolH2C',
  'HTTPRouteBackendProtocolWebSocket',
  'HTTPRouteBackendTimeout',
  'HTTPRouteDestinationPortMatching',
  'HTTPRouteMethodMatching',
  'HTTPRouteNamedRouteRule',
  'HTTPRouteParentRefPort',
  'HTTPRouteQueryParamMatching',
  'HTTPRouteRequestTimeout',
  'HTTPRouteRetryCodes',
  'HTTPRouteRetryConnectionError',
  'ListenerSet',
  'ReferenceGrant',
  'TCPRoute',
  'TLSRoute',
  'TLSRouteModeMixed',
  'TLSRouteModeTerminate',
  'UDPRoute',
];

export const SUPPORTED_FEATURES: readonly string[] = [...new Set([...CORE_FEATURES, ...FILTER_FEATURES])].sort();

/**
 * Condition types and reasons, spelled exactly as the Gateway API v1.7.0 constants.
 *
 * Conditions carry no `lastTransitionTime`: the translator is pure and has no clock. The status
 * writer sets it when it writes a condition whose `status` differs from the one on the object
 * (or that is new), and keeps the existing timestamp otherwise.
 */

export const ConditionType = {
  Accepted: 'Accepted',
  Programmed: 'Programmed',
  ResolvedRefs: 'ResolvedRefs',
  Conflicted: 'Conflicted',
  PartiallyInvalid: 'PartiallyInvalid',
  SupportedVersion: 'SupportedVersion',
  InsecureFrontendValidationMode: 'InsecureFrontendValidationMode',
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

export const Reason = {
  // shared
  Accepted: 'Accepted',
  Programmed: 'Programmed',
  ResolvedRefs: 'ResolvedRefs',
  Invalid: 'Invalid',
  Pending: 'Pending',
  RefNotPermitted: 'RefNotPermitted',
  UnsupportedValue: 'UnsupportedValue',
  InvalidKind: 'InvalidKind',
  // GatewayClass
  InvalidParameters: 'InvalidParameters',
  SupportedVersion: 'SupportedVersion',
  UnsupportedVersion: 'UnsupportedVersion',
  // Gateway
  ListenersNotValid: 'ListenersNotValid',
  UnsupportedAddress: 'UnsupportedAddress',
  InvalidClientCertificateRef: 'InvalidClientCertificateRef',
  ConfigurationChanged: 'ConfigurationChanged',
  // ListenerSet
  NotAllowed: 'NotAllowed',
  ParentNotAccepted: 'ParentNotAccepted',
  // Listener
  HostnameConflict: 'HostnameConflict',
  ProtocolConflict: 'ProtocolConflict',
  NoConflicts: 'NoConflicts',
  UnsupportedProtocol: 'UnsupportedProtocol',
  InvalidCertificateRef: 'InvalidCertificateRef',
  InvalidRouteKinds: 'InvalidRouteKinds',
  InvalidCACertificateRef: 'InvalidCACertificateRef',
  InvalidCACertificateKind: 'InvalidCACertificateKind',
  NoValidCACertificate: 'NoValidCACertificate',
  // Route
  NotAllowedByListeners: 'NotAllowedByListeners',
  NoMatchingListenerHostname: 'NoMatchingListenerHostname',
  NoMatchingParent: 'NoMatchingParent',
  IncompatibleFilters: 'IncompatibleFilters',
  BackendNotFound: 'BackendNotFound',
  // Policy
  Conflicted: 'Conflicted',
  TargetNotFound: 'TargetNotFound',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

export interface TranslatedCondition {
  readonly type: ConditionType;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: Reason;
  readonly message: string;
  readonly observedGeneration: number;
}

export function condition(
  type: ConditionType,
  isTrue: boolean,
  reason: Reason,
  message: string,
  observedGeneration: number,
): TranslatedCondition {
  return { type, status: isTrue ? 'True' : 'False', reason, message, observedGeneration };
}

/** A problem found while translating: the reason for a False condition, with a human message. */
export interface Problem {
  readonly reason: Reason;
  readonly message: string;
}

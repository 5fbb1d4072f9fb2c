export { translate } from './translate.ts';
export type { GatewayOutput, TranslationResult } from './translate.ts';
export { SUPPORTED_FEATURES } from './features.ts';
export { ConditionType, Reason, condition } from './conditions.ts';
export type { TranslatedCondition } from './conditions.ts';
export type { ObjectStatus, GatewayStatusOut, ListenerStatusOut, ListenerSetStatusOut, RouteStatusOut, PolicyStatusOut, GatewayClassStatusOut } from './status.ts';
export type { DeploymentParameters } from './parameters.ts';

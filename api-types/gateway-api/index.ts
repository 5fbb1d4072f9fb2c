export type * from './meta.ts';
export type * from './gateway.ts';
export type * from './routes.ts';
export type * from './policies.ts';
export type * from './core.ts';
export type * from './weir-parameters.ts';
export { GATEWAY_API_GROUP } from './meta.ts';
export { SERVICE_NAME_LABEL } from './core.ts';
export { WEIR_PARAMETERS_API_VERSION, WEIR_PARAMETERS_GROUP, WEIR_PARAMETERS_KIND } from './weir-parameters.ts';

export * from './meta.ts';
export * from './gateway.ts';
export * from './routes.ts';
export * from './policies.ts';
export * from './core.ts';
export * from './weir-parameters.ts';

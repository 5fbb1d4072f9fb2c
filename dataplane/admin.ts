/** The admin port: liveness, readiness (only once a config is served, and not while draining) and metrics. */
import { fastify, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export interface AdminState {
  /** True once the first config is applied, false again while shutting down. */
  ready(): boolean;
  status(): Record<string, unknown>;
}

export async function startAdmin(options: { host: string; port: number; registry: Registry; state: AdminState }): Promise<FastifyInstance> {
  const app = fastify({ logger: false, forceCloseConnections: true });
  app.get('/healthz', (_request, reply) => reply.send({ ok: true }));
  app.get('/readyz', (_request, reply) => {
    const ready = options.state.ready();
    return reply.code(ready ? 200 : 503).send({ ready, ...options.state.status() });
  });
  app.get('/metrics', async (_request, reply) => {
    const body = await options.registry.metrics();
    return reply.type(options.registry.contentType).send(body);
  });
  await app.listen({ host: options.host, port: options.port });
  return app;
}

/**
 * Writes statuses to the status subresource, only when what a user sees would change.
 *
 * For each computed status the object's current status (from the store) is merged with it
 * (desired.ts); equal ignoring lastTransitionTime → no request. Writes are PUTs carrying the
 * object's resourceVersion, so a concurrent change gives 409: the object is read again, the
 * status recomputed on top of it and the write retried. Routes and policies this controller
 * no longer attaches to get its entries removed.
 */
import type { ObjectStore, StoredObject } from '../store/object-store.ts';
import { objectKey } from '../store/object-store.ts';
import type { ObjectStatus } from '../translator/index.ts';
import { canonicalJson } from '../publisher/digest.ts';
import { httpStatus, type OperatorKubeClients } from '../provider/kubernetes/clients.ts';
import { resourceKind, type ResourceKind } from '../provider/kubernetes/kinds.ts';
import { desiredStatus, sameStatus } from './desired.ts';
import type { StatusContext, StatusSink } from './sink.ts';

export interface KubeStatusWriterOptions {
  readonly clients: OperatorKubeClients;
  readonly store: ObjectStore;
  readonly controllerName: string;
  readonly log: { warn(message: string): void; debug(message: string): void };
  readonly now?: () => Date;
  readonly concurrency?: number;
  readonly maxConflictRetries?: number;
}

type Json = Record<string, unknown>;

const ROUTE_KINDS = ['HTTPRoute', 'GRPCRoute', 'TLSRoute', 'TCPRoute', 'UDPRoute'] as const;

export class KubeStatusWriter implements StatusSink {
  readonly #options: KubeStatusWriterOptions;
  /** Object key → resourceVersion our last write produced and the status it wrote. */
  readonly #written = new Map<string, { resourceVersion: string; status: string }>();
  /**
   * Object key → (computed status JSON, resourceVersion) last found up to date: the same
   * computed status for the same object version needs no comparison again. (The translator's
   * output is deterministic, so its JSON is a faithful signature.)
   */
  readonly #upToDate = new Map<string, string>();
  /** Counts requests, for tests and metrics. */
  writes = 0;

  constructor(options: KubeStatusWriterOptions) {
    this.#options = options;
  }

  async write(statuses: readonly ObjectStatus[], context: StatusContext): Promise<void> {
    const all = [...statuses, ...this.#detached(statuses)];
    const concurrency = this.#options.concurrency ?? 8;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < all.length) {
        const status = all[next++];
        if (status === undefined) continue;
        try {
          await this.#writeOne(status, context);
        } catch (error) {
          this.#options.log.warn(`writing the status of ${status.kind} ${status.namespace}/${status.name} failed: ${String(error)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, all.length) }, worker));
    const current = new Set(all.map((status) => `${status.kind}/${status.namespace === '' ? status.name : `${status.namespace}/${status.name}`}`));
    for (const cache of [this.#upToDate, this.#written]) for (const key of cache.keys()) if (!current.has(key)) cache.delete(key);
  }

  /** Routes/policies carrying our entries that the translation no longer reports: clear ours. */
  #detached(statuses: readonly ObjectStatus[]): ObjectStatus[] {
    const reported = new Set(statuses.map((status) => `${status.kind}/${status.namespace}/${status.name}`));
    const { store, controllerName } = this.#options;
    const cleared: ObjectStatus[] = [];
    const ours = (entries: unknown): boolean => Array.isArray(entries) && entries.some((entry: unknown) => (entry as { controllerName?: unknown } | null)?.controllerName === controllerName);
    for (const kind of ROUTE_KINDS) {
      for (const object of store.list(kind)) {
        const meta = object.metadata;
        if (reported.has(`${kind}/${meta?.namespace ?? ''}/${meta?.name ?? ''}`)) continue;
        if (!ours((object as { status?: { parents?: unknown } }).status?.parents)) continue;
        cleared.push({ kind, namespace: meta?.namespace ?? '', name: meta?.name ?? '', generation: generationOf(object), status: { parents: [] } });
      }
    }
    for (const object of store.list('BackendTLSPolicy')) {
      const meta = object.metadata;
      if (reported.has(`BackendTLSPolicy/${meta?.namespace ?? ''}/${meta?.name ?? ''}`)) continue;
      if (!ours((object as { status?: { ancestors?: unknown } }).status?.ancestors)) continue;
      cleared.push({ kind: 'BackendTLSPolicy', namespace: meta?.namespace ?? '', name: meta?.name ?? '', generation: generationOf(object), status: { ancestors: [] } });
    }
    return cleared;
  }

  async #writeOne(computed: ObjectStatus, context: StatusContext): Promise<void> {
    const resource = resourceKind(computed.kind);
    if (resource === undefined) return;
    const key = computed.namespace === '' ? computed.name : `${computed.namespace}/${computed.name}`;
    let object: StoredObject | undefined = this.#options.store.get(resource.kind, key);
    const cacheKey = `${computed.kind}/${key}`;
    const signature = `${JSON.stringify(computed)}|${computed.kind === 'Gateway' ? JSON.stringify(context.addresses.get(key) ?? []) : ''}`;
    if (object !== undefined && this.#upToDate.get(cacheKey) === `${signature}|${object.metadata?.resourceVersion ?? ''}`) return;
    const maxRetries = this.#options.maxConflictRetries ?? 5;
    for (let attempt = 0; object !== undefined; attempt++) {
      const meta = object.metadata;
      if (meta?.deletionTimestamp !== undefined) return;
      const current = (object as { status?: unknown }).status;
      const desired = desiredStatus(computed, current, {
        now: (this.#options.now?.() ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        controllerName: this.#options.controllerName,
        ...(computed.kind === 'Gateway' ? { addresses: context.addresses.get(key) ?? [] } : {}),
      });
      const upToDate = (): void => { this.#upToDate.set(cacheKey, `${signature}|${meta?.resourceVersion ?? ''}`); };
      if (sameStatus(desired, current)) {
        upToDate();
        return;
      }
      const canonical = canonicalJson(desired);
      const written = this.#written.get(cacheKey);
      // The API server may prune fields its CRD version lacks; do not rewrite what we just wrote.
      if (written !== undefined && written.resourceVersion === meta?.resourceVersion && sameStatus(JSON.parse(written.status), desired)) {
        upToDate();
        return;
      }
      try {
        const updated = await this.#replace(resource, computed, { ...(object as Json), status: desired });
        this.writes++;
        const resourceVersion = (updated as StoredObject).metadata?.resourceVersion;
        if (resourceVersion !== undefined) {
          this.#written.set(cacheKey, { resourceVersion, status: canonical });
          this.#upToDate.set(cacheKey, `${signature}|${resourceVersion}`);
        }
        return;
      } catch (error) {
        const code = httpStatus(error);
        if (code === 404) return;
        if (code !== 409 || attempt >= maxRetries) throw error;
        this.#options.log.debug(`conflict writing the status of ${computed.kind} ${key}; rereading (attempt ${attempt + 1})`);
        object = await this.#read(resource, computed);
      }
    }
  }

  async #replace(resource: ResourceKind, computed: ObjectStatus, body: Json): Promise<unknown> {
    const { customObjects } = this.#options.clients;
    const common = { group: resource.group, version: resource.version, plural: resource.plural, name: computed.name, body, fieldManager: 'weir-operator' };
    return resource.namespaced
      ? customObjects.replaceNamespacedCustomObjectStatus({ ...common, namespace: computed.namespace })
      : customObjects.replaceClusterCustomObjectStatus(common);
  }

  async #read(resource: ResourceKind, computed: ObjectStatus): Promise<StoredObject | undefined> {
    const { customObjects } = this.#options.clients;
    const common = { group: resource.group, version: resource.version, plural: resource.plural, name: computed.name };
    try {
      const object = (resource.namespaced
        ? await customObjects.getNamespacedCustomObject({ ...common, namespace: computed.namespace })
        : await customObjects.getClusterCustomObject(common)) as StoredObject;
      return objectKey(object) === undefined ? undefined : object;
    } catch (error) {
      if (httpStatus(error) === 404) return undefined;
      throw error;
    }
  }
}

function generationOf(object: StoredObject): number {
  const generation = (object.metadata as { generation?: unknown } | undefined)?.generation;
  return typeof generation === 'number' ? generation : 0;
}

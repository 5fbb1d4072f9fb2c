/**
 * The operator in a cluster: Kubernetes provider → store → (while leader) reconciler with the
 * Redis publisher, ack reader, infra provisioner and status writer. Every replica keeps its
 * store warm; only the Lease holder writes anything.
 */
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import { operatorKubeClients, type OperatorKubeClients } from './provider/kubernetes/clients.ts';
import { KubernetesProvider } from './provider/kubernetes/provider.ts';
import { LeaderElector } from './leader/lease.ts';
import { messageLog, type Logger } from './log.ts';
import { RedisAckReader } from './publisher/acks.ts';
import { ConfigPublisher } from './publisher/publisher.ts';
import { RedisConfigStore } from './publisher/redis-store.ts';
import { watchConfigStore, type StoreWatch } from './publisher/store-watch.ts';
import { Reconciler } from './reconciler.ts';
import { KubeStatusWriter } from './status/kube-writer.ts';
import { ObjectStore } from './store/object-store.ts';
import { WEIR_CONTROLLER_NAME } from './store/snapshot.ts';
import { translate } from './translator/index.ts';
import { KubeProvisioner, type ProvisionerSettings } from './infra/kube-provisioner.ts';
import type { Tracing } from '../dataplane/telemetry/tracing.ts';
import { ConfigTraces } from './telemetry/config-trace.ts';
import type { OperatorMetrics } from './telemetry/metrics.ts';

export interface KubernetesOperatorOptions {
  readonly redisUrl: string;
  readonly log: Logger;
  readonly clients?: OperatorKubeClients;
  readonly controllerName?: string;
  /** Lease identity (default: POD_NAME or the hostname). */
  readonly identity?: string;
  readonly leaseNamespace?: string;
  readonly leaseName?: string;
  readonly leaseDurationMs?: number;
  /** Dataplane provisioning; absent turns provisioning off. */
  readonly provisioning?: ProvisionerSettings;
  /** How often provisioned objects are read back and restored (default 60 s). */
  readonly provisioningResyncMs?: number;
  /** How often Redis is checked for having lost what was published (default 1 s; reconnects are checked at once). */
  readonly storeCheckMs?: number;
  readonly metrics?: OperatorMetrics;
  /** Config-change traces (and their export); none without it. */
  readonly tracing?: Tracing;
}

export class KubernetesOperator {
  readonly store: ObjectStore;
  readonly reconciler: Reconciler;
  readonly elector: LeaderElector;
  readonly #provider: KubernetesProvider;
  readonly #redis: Redis;
  readonly #publisher: ConfigPublisher;
  readonly #log: Logger;
  readonly #storeCheckMs: number;
  readonly #tracing: Tracing | undefined;
  #storeWatch: StoreWatch | undefined;

  constructor(options: KubernetesOperatorOptions) {
    const controllerName = options.controllerName ?? WEIR_CONTROLLER_NAME;
    const clients = options.clients ?? operatorKubeClients();
    const log = options.log;
    this.#log = log;
    this.store = new ObjectStore(controllerName);
    this.#redis = new Redis(options.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2, connectionName: 'weir-operator' });
    this.#redis.on('error', (error: Error) => { log.debug({ err: error }, 'redis connection error'); });
    this.#publisher = new ConfigPublisher(new RedisConfigStore({ redis: this.#redis, controllerName }));
    this.#storeCheckMs = options.storeCheckMs ?? 1000;
    this.#provider = new KubernetesProvider({ clients, store: this.store, log: messageLog(log) });
    this.reconciler = new Reconciler({
      store: this.store,
      translate,
      sink: this.#publisher,
      acks: new RedisAckReader(this.#redis),
      statuses: new KubeStatusWriter({ clients, store: this.store, controllerName, log: messageLog(log) }),
      ...(options.provisioning === undefined ? {} : { provisioner: new KubeProvisioner({ clients, store: this.store, settings: options.provisioning, log: messageLog(log), ...(options.provisioningResyncMs === undefined ? {} : { resyncMs: options.provisioningResyncMs }) }) }),
      log,
      metrics: options.metrics,
      traces: options.tracing === undefined ? undefined : new ConfigTraces(options.tracing.tracer),
    });
    this.#tracing = options.tracing;
    options.tracing?.onDropped((count, reason) => { options.metrics?.spansDropped.labels({ reason }).inc(count); });
    this.elector = new LeaderElector({
      customObjects: clients.customObjects,
      namespace: options.leaseNamespace ?? 'weir-system',
      name: options.leaseName ?? 'weir-operator',
      identity: options.identity ?? process.env.POD_NAME ?? hostname(),
      ...(options.leaseDurationMs === undefined ? {} : { leaseDurationMs: options.leaseDurationMs }),
      onStartedLeading: (term) => {
        const epoch = this.#publisher.startTerm(term);
        options.metrics?.leader.set(1);
        log.info({ epoch }, 'publishing under a new epoch');
        this.reconciler.start();
        this.#storeWatch = watchConfigStore({
          redis: this.#redis,
          publisher: this.#publisher,
          intervalMs: this.#storeCheckMs,
          onLost: () => {
            log.warn({ epoch }, 'redis no longer holds the published configs (restart, flush, failover or restore); republishing');
            this.reconciler.republish();
          },
          log,
        });
      },
      onStoppedLeading: () => {
        options.metrics?.leader.set(0);
        this.#storeWatch?.stop();
        void this.reconciler.stop();
      },
      log: messageLog(log),
    });
  }

  /** Connects, fills the store, then campaigns for the Lease. */
  async start(): Promise<void> {
    await this.#redis.connect();
    await this.#provider.start();
    this.#log.info({ objects: this.store.seq }, 'store synced with the API server');
    this.elector.start();
  }

  async stop(): Promise<void> {
    await this.elector.stop();
    this.#storeWatch?.stop();
    await this.reconciler.stop();
    this.#provider.stop();
    this.#redis.disconnect();
    await this.#tracing?.shutdown();
  }
}

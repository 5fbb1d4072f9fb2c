/**
 * Leader election on a `coordination.k8s.io/v1` Lease.
 *
 * Candidates read the Lease every `retryMs`. The holder renews `spec.renewTime` every
 * `retryMs`; a candidate takes over when the record has not changed for `leaseDurationMs`
 * as measured by its own clock (it never compares clocks across machines). All writes carry
 * the resourceVersion read, so two candidates cannot both win. A leader that cannot renew for
 * `renewDeadlineMs` steps down before its Lease can expire; a leader shutting down clears
 * the holder so a standby takes over at once. The Lease is read through the custom-objects
 * API as plain JSON: the typed client mis-serializes MicroTime fields.
 *
 * Each time a process starts leading it opens a new term, recorded on the Lease in the same
 * write that takes it: a number above the Lease's last term and no lower than the clock in
 * milliseconds, so terms keep increasing even if the Lease itself is deleted and re-created.
 * The publisher uses the term as its epoch (ADR 0005).
 */
import type { CustomObjectsApi } from '@kubernetes/client-node';
import { httpStatus } from '../provider/kubernetes/clients.ts';

export interface LeaderElectionOptions {
  readonly customObjects: CustomObjectsApi;
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryMs?: number;
  readonly onStartedLeading: (term: number) => void;
  readonly onStoppedLeading: () => void;
  readonly log: { info(message: string): void; warn(message: string): void };
}

interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; resourceVersion?: string; annotations?: Record<string, string> };
  spec: LeaseSpec;
}

const LEASES = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases' } as const;

export const TERM_ANNOTATION = 'weir.dev/leader-term';

function nextTerm(lease: Lease | undefined): number {
  const last = Number(lease?.metadata.annotations?.[TERM_ANNOTATION] ?? '0');
  return Math.max(Date.now(), (Number.isSafeInteger(last) && last > 0 ? last : 0) + 1);
}

function microTime(date: Date): string {
  return date.toISOString().replace(/Z$/, '000Z');
}

export class LeaderElector {
  readonly #options: LeaderElectionOptions;
  readonly #leaseDurationMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryMs: number;
  #leading = false;
  #stopped = true;
  #timer: NodeJS.Timeout | undefined;
  /** resourceVersion last seen and when (our clock) it was first seen. */
  #observed: { resourceVersion: string; at: number } | undefined;
  #lastRenew = 0;
  #term = 0;
  #tick: Promise<void> | undefined;

  constructor(options: LeaderElectionOptions) {
    this.#options = options;
    this.#leaseDurationMs = options.leaseDurationMs ?? 8000;
    this.#renewDeadlineMs = options.renewDeadlineMs ?? Math.round(this.#leaseDurationMs * 0.66);
    this.#retryMs = options.retryMs ?? 1000;
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  start(): void {
    this.#stopped = false;
    this.#schedule(0);
  }

  /** Stops campaigning; a leader clears the holder so a standby can take over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#tick;
    if (!this.#leading) return;
    this.#setLeading(false);
    try {
      const lease = await this.#read();
      if (lease?.spec.holderIdentity === this.#options.identity) {
        await this.#replace({ ...lease, spec: { ...lease.spec, holderIdentity: null, leaseDurationSeconds: 1, renewTime: microTime(new Date(0)) } });
      }
    } catch (error) {
      this.#options.log.warn(`releasing the lease failed: ${String(error)}`);
    }
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#tick = this.#attempt().finally(() => { this.#schedule(this.#retryMs); });
    }, ms);
  }

  async #attempt(): Promise<void> {
    try {
      const term = await this.#tryAcquireOrRenew();
      if (term !== undefined) {
        this.#lastRenew = Date.now();
        if (!this.#leading && !this.#stopped) {
          this.#term = term;
          this.#setLeading(true);
        }
      } else if (this.#leading) {
        this.#setLeading(false);
      }
    } catch (error) {
      this.#options.log.warn(`lease ${this.#options.namespace}/${this.#options.name}: ${String(error)}`);
      if (this.#leading && Date.now() - this.#lastRenew > this.#renewDeadlineMs) this.#setLeading(false);
    }
  }

  #setLeading(leading: boolean): void {
    this.#leading = leading;
    this.#options.log.info(leading ? `became leader (${this.#options.identity})` : `stopped leading (${this.#options.identity})`);
    if (leading) this.#options.onStartedLeading(this.#term);
    else this.#options.onStoppedLeading();
  }

  /** The term we lead in after this call (a new one unless we were leading), or undefined when we do not hold the Lease. */
  async #tryAcquireOrRenew(): Promise<number | undefined> {
    const { identity, namespace, name } = this.#options;
    const now = new Date();
    const leaseDurationSeconds = Math.max(1, Math.ceil(this.#leaseDurationMs / 1000));
    const lease = await this.#read();
    if (lease === undefined) {
      const term = nextTerm(undefined);
      await this.#options.customObjects.createNamespacedCustomObject({
        ...LEASES,
        namespace,
        body: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace, annotations: { [TERM_ANNOTATION]: String(term) } },
          spec: { holderIdentity: identity, leaseDurationSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
        },
      });
      return term;
    }
    const resourceVersion = lease.metadata.resourceVersion ?? '';
    if (this.#observed?.resourceVersion !== resourceVersion) this.#observed = { resourceVersion, at: Date.now() };
    const holder = lease.spec.holderIdentity ?? '';
    const held = holder !== '' && holder !== identity;
    const durationMs = (lease.spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
    if (held && Date.now() - this.#observed.at < durationMs) return undefined;
    // A restarted process with the same identity, or one that stepped down, starts a new term too.
    const startsTerm = holder !== identity || !this.#leading;
    const term = startsTerm ? nextTerm(lease) : this.#term;
    const metadata = startsTerm ? { ...lease.metadata, annotations: { ...lease.metadata.annotations, [TERM_ANNOTATION]: String(term) } } : lease.metadata;
    const spec: LeaseSpec =
      holder === identity
        ? { ...lease.spec, leaseDurationSeconds, renewTime: microTime(now) }
        : { holderIdentity: identity, leaseDurationSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: (lease.spec.leaseTransitions ?? 0) + 1 };
    try {
      await this.#replace({ ...lease, metadata, spec });
      return term;
    } catch (error) {
      if (httpStatus(error) === 409) return undefined;
      throw error;
    }
  }

  async #read(): Promise<Lease | undefined> {
    try {
      return (await this.#options.customObjects.getNamespacedCustomObject({ ...LEASES, namespace: this.#options.namespace, name: this.#options.name })) as Lease;
    } catch (error) {
      if (httpStatus(error) === 404) return undefined;
      throw error;
    }
  }

  async #replace(lease: Lease): Promise<void> {
    await this.#options.customObjects.replaceNamespacedCustomObject({ ...LEASES, namespace: this.#options.namespace, name: this.#options.name, body: lease });
  }
}

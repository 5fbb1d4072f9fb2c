/**
 * Creates and updates each accepted Gateway's ServiceAccount, Deployment and Service.
 *
 * - Created when missing; afterwards updated with a JSON merge patch only when the manifest
 *   we would write changed (a hash in an annotation), so user or controller edits to fields
 *   we do not set are left alone.
 * - `spec.replicas` is set only at creation: patches never carry it, so `kubectl scale` or an
 *   HPA own the replica count from then on.
 * - Objects are owned by the Gateway (owner reference), so deleting the Gateway lets the
 *   garbage collector remove them.
 * - Addresses for `Gateway.status.addresses` come from the Service in the store (load
 *   balancer ingress, else the cluster IP).
 * - Objects are not watched: every `resyncMs` the provisioner reads them again, so one that
 *   was deleted or whose managed fields were edited is restored within about a minute.
 */
import { gatewayId } from '../../api-types/gateway-ref.ts';
import { PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import type { GatewayOutput } from '../translator/index.ts';
import type { ObjectStore } from '../store/object-store.ts';
import type { GatewayAddress } from '../status/sink.ts';
import { httpStatus, type OperatorKubeClients } from '../provider/kubernetes/clients.ts';
import { removeDroppedKeys } from './managed-metadata.ts';
import type { InfraProvisioner } from './provisioner.ts';
import { dataplaneManifests, dataplaneName, HASH_ANNOTATION, manifestHash, type Manifest, type ProvisionerSettings } from './resources.ts';

export type { ProvisionerSettings };

export interface KubeProvisionerOptions {
  readonly clients: OperatorKubeClients;
  readonly store: ObjectStore;
  readonly settings: ProvisionerSettings;
  readonly log: { warn(message: string): void; info(message: string): void };
  /** How long an "already applied" is trusted before the objects are read again (default 60 s). */
  readonly resyncMs?: number;
}

const FIELD_MANAGER = 'weir-operator';

export class KubeProvisioner implements InfraProvisioner {
  readonly #options: KubeProvisionerOptions;
  /** `kind/ns/name` → hash last applied by this process (skips API calls when unchanged). */
  readonly #applied = new Map<string, string>();
  #appliedAt = 0;

  constructor(options: KubeProvisionerOptions) {
    this.#options = options;
  }

  async apply(gateways: readonly GatewayOutput[]): Promise<Map<string, GatewayAddress[]>> {
    // Forget now and then, so objects deleted or edited by someone else are put back.
    if (Date.now() - this.#appliedAt > (this.#options.resyncMs ?? 60_000)) {
      this.#applied.clear();
      this.#appliedAt = Date.now();
    }
    const addresses = new Map<string, GatewayAddress[]>();
    for (const output of gateways) {
      const id = gatewayId(output.gateway);
      const gateway = this.#options.store.get('Gateway', id);
      const uid = gateway?.metadata === undefined ? undefined : (gateway.metadata as { uid?: string }).uid;
      if (uid === undefined) continue;
      const manifests = dataplaneManifests(output, { ...output.gateway, uid }, this.#options.settings);
      try {
        await this.#ensure(manifests.serviceAccount);
        await this.#ensure(manifests.deployment);
        if (manifests.service !== undefined) await this.#ensure(manifests.service);
      } catch (error) {
        this.#options.log.warn(`provisioning the dataplane of Gateway ${id} failed: ${String(error)}`);
      }
      addresses.set(id, this.#addresses(output.gateway.namespace, dataplaneName(output.gateway.name), output.infrastructure.addressRoutability));
    }
    return addresses;
  }

  #addresses(namespace: string, name: string, routability: 'Cluster' | undefined): GatewayAddress[] {
    const service = this.#options.store.get('Service', `${namespace}/${name}`) as
      | { spec?: { clusterIP?: string }; status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } } }
      | undefined;
    if (service === undefined) return [];
    if (routability === 'Cluster') {
      const clusterIP = service.spec?.clusterIP;
      return clusterIP === undefined || clusterIP === '' || clusterIP === 'None' ? [] : [{ type: 'IPAddress', value: clusterIP, routability }];
    }
    const ingress = (service.status?.loadBalancer?.ingress ?? []).flatMap((entry): GatewayAddress[] =>
      entry.ip !== undefined ? [{ type: 'IPAddress', value: entry.ip }] : entry.hostname !== undefined ? [{ type: 'Hostname', value: entry.hostname }] : [],
    );
    if (ingress.length > 0) return ingress;
    const clusterIP = service.spec?.clusterIP;
    return clusterIP === undefined || clusterIP === '' || clusterIP === 'None' ? [] : [{ type: 'IPAddress', value: clusterIP }];
  }

  async #ensure(manifest: Manifest): Promise<void> {
    const { objects } = this.#options.clients;
    const hash = manifestHash(manifest);
    const key = `${manifest.kind}/${manifest.metadata.namespace}/${manifest.metadata.name}`;
    if (this.#applied.get(key) === hash) return;
    const wanted = { ...manifest, metadata: { ...manifest.metadata, annotations: { ...manifest.metadata.annotations, [HASH_ANNOTATION]: hash } } };
    let existing: KubernetesObject | undefined;
    try {
      existing = await objects.read({ apiVersion: manifest.apiVersion, kind: manifest.kind, metadata: { name: manifest.metadata.name, namespace: manifest.metadata.namespace } });
    } catch (error) {
      if (httpStatus(error) !== 404) throw error;
    }
    if (existing === undefined) {
      await objects.create(wanted, undefined, undefined, FIELD_MANAGER);
      this.#options.log.info(`created ${key}`);
    } else if (existing.metadata?.annotations?.[HASH_ANNOTATION] !== hash) {
      const patch = structuredClone(wanted) as Manifest;
      const spec = patch.spec as Record<string, unknown> | undefined;
      if (spec !== undefined) delete spec.replicas;
      removeDroppedKeys(patch, existing.metadata?.annotations);
      await objects.patch(patch, undefined, undefined, FIELD_MANAGER, undefined, PatchStrategy.MergePatch);
      this.#options.log.info(`updated ${key}`);
    }
    this.#applied.set(key, hash);
  }
}

import { ApiextensionsV1Api, type KubeConfig, type KubernetesObject, KubernetesObjectApi } from '@kubernetes/client-node';
import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { poll } from './wait.ts';

/** Parses multi-document YAML files into objects (empty documents dropped). */
export async function loadManifests(files: readonly string[]): Promise<KubernetesObject[]> {
  const objects: KubernetesObject[] = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(await readFile(file, 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
      const object = doc.toJS() as KubernetesObject | null;
      if (object !== null) objects.push(object);
    }
  }
  return objects;
}

/** Creates the objects in order (a fresh cluster: create, not apply). */
export async function createObjects(kubeConfig: KubeConfig, objects: readonly KubernetesObject[]): Promise<void> {
  const client = KubernetesObjectApi.makeApiClient(kubeConfig);
  for (const object of objects) {
    await client.create(object);
  }
}

/** Waits until every named CRD reports Established=True (its API is served). */
export async function waitForCrdsEstablished(kubeConfig: KubeConfig, names: readonly string[], timeoutMs = 30_000): Promise<void> {
  const api = kubeConfig.makeApiClient(ApiextensionsV1Api);
  await poll(
    async () => {
      const list = await api.listCustomResourceDefinition();
      const established = new Set(
        list.items
          .filter((crd) => crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'))
          .map((crd) => crd.metadata?.name),
      );
      return names.every((name) => established.has(name)) ? true : undefined;
    },
    { what: `CRDs to be Established (${names.join(', ')})`, timeoutMs, intervalMs: 50 },
  );
}

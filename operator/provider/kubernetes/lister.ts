/**
 * Full LISTs of one kind with client-node, paginated, returned as plain JSON objects with
 * `apiVersion` and `kind` set (list items lack them) — the same shape watch events deliver.
 */
import type { StoredObject } from '../../store/object-store.ts';
import type { OperatorKubeClients } from './clients.ts';
import { apiVersionOf, type ResourceKind } from '../../kinds.ts';

const PAGE = 500;

interface Page {
  readonly items: readonly unknown[];
  readonly metadata?: { readonly _continue?: string; readonly continue?: string };
}

function plain(item: unknown, resource: ResourceKind): StoredObject {
  // Typed core lists carry Date objects; a JSON round trip gives the wire format back.
  const object = JSON.parse(JSON.stringify(item)) as Record<string, unknown>;
  return { ...object, apiVersion: apiVersionOf(resource), kind: resource.kind } as StoredObject;
}

async function page(clients: OperatorKubeClients, resource: ResourceKind, token: string | undefined): Promise<Page> {
  const common = { limit: PAGE, ...(token === undefined ? {} : { _continue: token }) };
  switch (resource.kind) {
    case 'Service':
      return clients.core.listServiceForAllNamespaces(common);
    case 'Secret':
      return clients.core.listSecretForAllNamespaces(common);
    case 'ConfigMap':
      return clients.core.listConfigMapForAllNamespaces(common);
    case 'Namespace':
      return clients.core.listNamespace(common);
    case 'EndpointSlice':
      return clients.discovery.listEndpointSliceForAllNamespaces(common);
    default:
      return (await clients.customObjects.listClusterCustomObject({ group: resource.group, version: resource.version, plural: resource.plural, ...common })) as Page;
  }
}

export async function listAll(clients: OperatorKubeClients, resource: ResourceKind): Promise<StoredObject[]> {
  const objects: StoredObject[] = [];
  let token: string | undefined;
  do {
    const result = await page(clients, resource, token);
    for (const item of result.items) objects.push(plain(item, resource));
    const next = result.metadata?._continue ?? result.metadata?.continue;
    token = next === undefined || next === '' ? undefined : next;
  } while (token !== undefined);
  return objects;
}

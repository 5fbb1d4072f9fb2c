/**
 * The project's own `@kubernetes/client-node` (v2) clients: lists for relisting, status writes
 * and provisioning. (The reconciliation SDK brings its own older client-node for its watches;
 * see docs/adr/0001-operator-sdk-and-client-node.md.)
 */
import { AppsV1Api, CoreV1Api, CustomObjectsApi, DiscoveryV1Api, KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';

export interface OperatorKubeClients {
  readonly kubeConfig: KubeConfig;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly discovery: DiscoveryV1Api;
  readonly customObjects: CustomObjectsApi;
  /** Generic create/read/patch of any kind (provisioning). */
  readonly objects: KubernetesObjectApi;
}

/** From `KUBECONFIG` / `~/.kube/config`, or the in-cluster service account. */
export function operatorKubeClients(kubeConfig: KubeConfig = defaultKubeConfig()): OperatorKubeClients {
  return {
    kubeConfig,
    core: kubeConfig.makeApiClient(CoreV1Api),
    apps: kubeConfig.makeApiClient(AppsV1Api),
    discovery: kubeConfig.makeApiClient(DiscoveryV1Api),
    customObjects: kubeConfig.makeApiClient(CustomObjectsApi),
    objects: KubernetesObjectApi.makeApiClient(kubeConfig),
  };
}

export function defaultKubeConfig(): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  return kubeConfig;
}

/** HTTP status of a client-node error, if it is one. */
export function httpStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

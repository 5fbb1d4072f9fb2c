// Helpers for the operator integration tests: run `node operator/main.ts` as a real process
// against the harness's kube-apiserver and Redis, and read what it published and wrote.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { configKey } from '../../api-types/redis-contract.ts';
import type { PublishedConfig } from '../../api-types/dataplane-config.ts';
import { kube, poll, redis, uniqueName, type KubeHarness, type TestContext } from '../harness/index.ts';
import { repoRoot } from '../harness/paths.ts';

export const GROUP = 'gateway.networking.k8s.io';

export interface OperatorSetup {
  /** Unique per test file, so concurrent operators never manage each other's Gateways. */
  readonly controllerName: string;
  readonly className: string;
  readonly leaseName: string;
  readonly leaseNamespace: string;
  readonly kubeconfigPath: string;
  /** The harness's Redis, which every operator of the test publishes to. */
  readonly redisUrl: string;
}

export interface OperatorProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly output: () => string;
  /** SIGTERM (graceful: releases the Lease) or SIGKILL (a crash); resolves when it exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** A GatewayClass for a fresh controllerName, the WeirParameters CRD, and a namespace for the Lease. */
export async function operatorSetup(t: TestContext, leaseNamespace: string): Promise<OperatorSetup> {
  const k = await kube();
  const className = uniqueName('weir');
  const controllerName = `weir.dev/test-${className}`;
  const crd = await k.kubectl(['apply', '-f', join(repoRoot, 'config/crd/')]);
  if (crd.exitCode !== 0) throw new Error(crd.stderr);
  const applied = await k.kubectl(['apply', '-f', '-'], {
    input: `apiVersion: ${GROUP}/v1\nkind: GatewayClass\nmetadata: { name: ${className} }\nspec: { controllerName: ${controllerName} }\n`,
  });
  if (applied.exitCode !== 0) throw new Error(applied.stderr);
  t.teardown(() => k.kubectl(['delete', 'gatewayclass', className, '--ignore-not-found', '--wait=false']));
  const { url: redisUrl } = await redis();
  return { controllerName, className, leaseName: `lease-${className}`, leaseNamespace, kubeconfigPath: k.kubeconfigPath, redisUrl };
}

export function startOperator(t: TestContext, setup: OperatorSetup, name: string, env: Record<string, string> = {}): OperatorProcess {
  let output = '';
  const child = spawn(process.execPath, [join(repoRoot, 'operator/main.ts')], {
    cwd: repoRoot,
    env: {
      ...process.env,
      KUBECONFIG: setup.kubeconfigPath,
      REDIS_URL: setup.redisUrl,
      POD_NAME: name,
      POD_NAMESPACE: setup.leaseNamespace,
      WEIR_CONTROLLER_NAME: setup.controllerName,
      WEIR_LEASE_NAME: setup.leaseName,
      WEIR_LEASE_DURATION_MS: '3000',
      // Several operators share the host: no metrics port unless a test asks for one.
      WEIR_METRICS_PORT: '0',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => { resolve(); }));
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  t.teardown(() => stop('SIGKILL'));
  return { name, child, output: () => output, stop };
}

/** Polls until `check` is true. */
export async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  await poll(async () => ((await check()) ? true : undefined), { what, timeoutMs, intervalMs: 100 });
}

export async function published(redis: Redis, namespace: string, name: string): Promise<PublishedConfig | undefined> {
  const raw = await redis.get(configKey({ namespace, name }));
  return raw === null ? undefined : (JSON.parse(raw) as PublishedConfig);
}

interface ConditionView {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime?: string;
}

export interface Conditions {
  readonly generation: number;
  readonly conditions: ConditionView[];
  readonly object: Record<string, unknown>;
}

export async function gatewayConditions(k: KubeHarness, namespace: string, name: string): Promise<Conditions | undefined> {
  try {
    const object = (await k.customObjects.getNamespacedCustomObject({ group: GROUP, version: 'v1', namespace, plural: 'gateways', name })) as {
      metadata: { generation: number };
      status?: { conditions?: ConditionView[] };
    };
    return { generation: object.metadata.generation, conditions: object.status?.conditions ?? [], object: object as unknown as Record<string, unknown> };
  } catch {
    return undefined;
  }
}

/** Conditions of our controller's parent entry on a route. */
export async function routeConditions(k: KubeHarness, namespace: string, name: string, controllerName: string, plural = 'httproutes'): Promise<Conditions | undefined> {
  try {
    const object = (await k.customObjects.getNamespacedCustomObject({ group: GROUP, version: 'v1', namespace, plural, name })) as {
      metadata: { generation: number };
      status?: { parents?: { controllerName: string; conditions: ConditionView[] }[] };
    };
    const parent = object.status?.parents?.find((entry) => entry.controllerName === controllerName);
    return parent === undefined ? undefined : { generation: object.metadata.generation, conditions: parent.conditions, object: object as unknown as Record<string, unknown> };
  } catch {
    return undefined;
  }
}

export function condition(conditions: Conditions | undefined, type: string): ConditionView | undefined {
  return conditions?.conditions.find((entry) => entry.type === type);
}

export async function apply(k: KubeHarness, yaml: string): Promise<void> {
  const result = await k.kubectl(['apply', '-f', '-'], { input: yaml });
  if (result.exitCode !== 0) throw new Error(`kubectl apply failed: ${result.stderr}`);
}

export function gatewayYaml(namespace: string, className: string, name: string, ports: readonly number[]): string {
  return `apiVersion: ${GROUP}/v1
kind: Gateway
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  gatewayClassName: ${className}
  listeners:
${ports.map((port) => `    - { name: http-${port}, protocol: HTTP, port: ${port} }`).join('\n')}
`;
}

export function serviceYaml(namespace: string, name: string, port = 80): string {
  return `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: ${namespace} }
spec: { ports: [{ port: ${port} }] }
`;
}

export function routeYaml(namespace: string, name: string, gateway: string, hostnames: readonly string[], backend: { name: string; namespace?: string; port?: number }): string {
  return `apiVersion: ${GROUP}/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  parentRefs: [{ name: ${gateway} }]
  hostnames: ${JSON.stringify(hostnames)}
  rules:
    - backendRefs: [{ name: ${backend.name}, port: ${backend.port ?? 80}${backend.namespace === undefined ? '' : `, namespace: ${backend.namespace}`} }]
`;
}

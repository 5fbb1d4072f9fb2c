// Driving the local cluster (hack/cluster.sh) the way a user does: with kubectl, and with
// HTTP from the host to a Gateway's LoadBalancer address. A broken cluster fails the test
// with the component logs attached; nothing is skipped.
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { kubectlBinary, runKubectl } from '../harness/kubectl.ts';
import { repoRoot } from '../harness/paths.ts';
import { poll } from '../harness/wait.ts';

/** Must match STATE in hack/cluster.sh. */
export const clusterStateDir = '/var/lib/weir-cluster';
export const kubeconfigPath = join(clusterStateDir, 'admin.kubeconfig');
export const clusterScript = join(repoRoot, 'hack', 'cluster.sh');
/** The echo backend hack/build-images.sh builds (the name Gateway API v1.7.0's conformance manifests use). */
export const echoImage = 'registry.k8s.io/gateway-api/conformance/echo-basic:v0.1.0';

export class KubectlError extends Error {
  override name = 'KubectlError';
}

/** kubectl's stdout; throws with its stderr when it exits non-zero. */
export async function kubectl(args: readonly string[], input?: string): Promise<string> {
  const result = await runKubectl(kubeconfigPath, args, input === undefined ? {} : { input });
  if (result.exitCode !== 0) throw new KubectlError(`kubectl ${args.join(' ')}: exit ${result.exitCode}: ${result.stderr.trim()}`);
  return result.stdout;
}

export async function kubectlJson<T>(args: readonly string[]): Promise<T> {
  return JSON.parse(await kubectl([...args, '-o', 'json'])) as T;
}

export async function apply(manifest: string): Promise<void> {
  await kubectl(['apply', '-f', '-'], manifest);
}

/** The tail of every component log, and the cluster's pods and recent events. */
export async function clusterDiagnostics(): Promise<string> {
  const parts: string[] = [];
  const logDir = join(clusterStateDir, 'logs');
  const files = await readdir(logDir).catch(() => [] as string[]);
  for (const file of files.sort()) {
    const text = await readFile(join(logDir, file), 'utf8').catch((error: unknown) => String(error));
    parts.push(`----- ${join(logDir, file)} (last 40 lines)\n${text.split('\n').slice(-40).join('\n')}`);
  }
  for (const args of [
    ['get', 'nodes,pods,svc,deploy', '-A', '-o', 'wide'],
    ['get', 'gateway,httproute', '-A'],
    ['get', 'events', '-A', '--sort-by=.lastTimestamp'],
    ['-n', 'weir-system', 'logs', 'deploy/weir-operator', '--tail=60'],
  ]) {
    const result = await runKubectl(kubeconfigPath, args).catch((error: unknown) => ({ stdout: '', stderr: String(error), exitCode: 1 }));
    parts.push(`----- kubectl ${args.join(' ')}\n${result.stdout}${result.stderr}`);
  }
  return parts.join('\n');
}

interface TapLike {
  before(fn: () => Promise<void>): void;
  teardown(fn: () => unknown): void;
  passing(): boolean;
}

/**
 * Fails the file at once (with diagnostics) unless the cluster answers and its node is
 * Ready, and prints the diagnostics when any test of the file failed.
 */
export function useCluster(t: TapLike): void {
  t.before(async () => {
    try {
      await kubectl(['get', '--raw', '/readyz']);
      await kubectl(['wait', '--for=condition=Ready', 'node', '--all', '--timeout=30s']);
    } catch (error) {
      throw new Error(`the local cluster is not up (start it with: sudo bash hack/cluster.sh up): ${String(error)}\n${await clusterDiagnostics()}`);
    }
  });
  t.teardown(async () => {
    if (!t.passing()) process.stderr.write(`${await clusterDiagnostics()}\n`);
  });
}

/** A fresh namespace for one test file, deleted (and waited for) when the file ends. */
export async function testNamespace(t: { teardown(fn: () => unknown): void }, name: string): Promise<string> {
  await kubectl(['delete', 'namespace', name, '--ignore-not-found', '--wait=true', '--timeout=120s']);
  await kubectl(['create', 'namespace', name]);
  t.teardown(() => kubectl(['delete', 'namespace', name, '--wait=true', '--timeout=120s']));
  return name;
}

/** Deployments + Services of the echo backend, each answering with its own name. */
export function echoBackends(namespace: string, names: readonly string[], replicas = 1): string {
  return names
    .map(
      (name) => `
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      containers:
        - name: echo
          image: ${echoImage}
          env:
            - name: POD_NAME
              valueFrom: { fieldRef: { fieldPath: metadata.name } }
            - name: NAMESPACE
              valueFrom: { fieldRef: { fieldPath: metadata.namespace } }
          ports: [{ name: http, containerPort: 3000 }]
          readinessProbe: { httpGet: { path: /, port: 3000 }, periodSeconds: 1 }
          resources: { requests: { cpu: 10m } }
---
apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  selector: { app: ${name} }
  ports: [{ name: http, port: 8080, targetPort: http }]
`,
    )
    .join('---');
}

export async function waitForDeployment(namespace: string, name: string, timeoutSeconds = 180): Promise<void> {
  await kubectl(['-n', namespace, 'rollout', 'status', `deploy/${name}`, `--timeout=${timeoutSeconds}s`]);
}

interface Condition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly observedGeneration?: number;
}

interface GatewayStatusView {
  readonly metadata: { readonly generation: number };
  readonly status?: { readonly addresses?: readonly { readonly value: string }[]; readonly conditions?: readonly Condition[] };
}

/** Waits for the Gateway's Programmed=True (for its current generation) and returns its address. */
export async function programmedAddress(namespace: string, name: string, timeoutMs = 180_000): Promise<string> {
  return poll(
    async () => {
      const gateway = await kubectlJson<GatewayStatusView>(['-n', namespace, 'get', 'gateway', name]);
      const programmed = gateway.status?.conditions?.find((c) => c.type === 'Programmed');
      const address = gateway.status?.addresses?.[0]?.value;
      const current = programmed?.status === 'True' && programmed.observedGeneration === gateway.metadata.generation;
      return current && address !== undefined ? address : undefined;
    },
    { what: `Gateway ${namespace}/${name} Programmed=True with an address`, timeoutMs, intervalMs: 500 },
  );
}

interface RouteStatusView {
  readonly metadata: { readonly generation: number };
  readonly status?: { readonly parents?: readonly { readonly conditions?: readonly Condition[] }[] };
}

/** The route's conditions for its current generation (first parent), once the operator wrote them. */
export async function routeConditions(namespace: string, kind: string, name: string): Promise<Map<string, Condition>> {
  return poll(
    async () => {
      const route = await kubectlJson<RouteStatusView>(['-n', namespace, 'get', kind, name]);
      const conditions = route.status?.parents?.[0]?.conditions ?? [];
      if (conditions.length === 0 || conditions.some((c) => c.observedGeneration !== route.metadata.generation)) return undefined;
      return new Map(conditions.map((c) => [c.type, c]));
    },
    { what: `${kind} ${namespace}/${name} status for its current generation`, timeoutMs: 60_000, intervalMs: 500 },
  );
}

/** The Gateway's LoadBalancer range, as hack/cluster.sh configures MetalLB. */
export function lbPool(): string {
  return process.env.WEIR_CLUSTER_LB_POOL ?? '198.51.100.240/28';
}

export function inPool(address: string, pool = lbPool()): boolean {
  const [base, bits] = pool.split('/');
  const toNumber = (ip: string): number => ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
  const size = 2 ** (32 - Number(bits));
  const start = toNumber(base ?? '');
  const value = toNumber(address);
  return value >= start && value < start + size;
}

/**
 * `kubectl port-forward <target> :<remotePort>` as a user runs it (e.g. to open Jaeger's UI);
 * resolves with the local port once kubectl says it forwards, and stops it when the test ends.
 */
export async function portForward(t: { teardown(fn: () => unknown): void }, namespace: string, target: string, remotePort: number): Promise<number> {
  const binary = kubectlBinary();
  if (binary === undefined) throw new Error('kubectl was not found: run `bash hack/setup.sh`');
  const child = spawn(binary, [`--kubeconfig=${kubeconfigPath}`, `--cache-dir=${join(dirname(kubeconfigPath), 'kubectl-cache')}`, '-n', namespace, 'port-forward', target, `:${remotePort}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => { child.kill(); });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`kubectl port-forward ${target} did not start within 30 s: ${output}`)); }, 30_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const match = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(output);
      if (match === null) return;
      clearTimeout(timer);
      resolve(Number(match[1]));
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`kubectl port-forward ${target} exited (${String(code)}): ${output}`));
    });
  });
}

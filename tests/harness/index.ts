// What tap tests import. Every getter reuses the component tests/run.ts shared through the
// environment (see env.ts) and otherwise starts a private one for this test file, stopped
// when the file's tests end. A component that is missing or fails to start makes the
// calling test fail with what to install or run; nothing is skipped.
/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment --
   @kubernetes/client-node declares its models as data-only classes but documents and accepts plain objects. */
import { randomBytes } from 'node:crypto';
import type { Redis, RedisOptions } from 'ioredis';
import tap from 'tap';
import { connectRedis, type KubeClients, kubeClients } from './clients.ts';
import { type ControlPlaneEndpoint, startControlPlane } from './controlplane.ts';
import { harnessEnv } from './env.ts';
import { type KubectlOptions, type KubectlResult, runKubectl } from './kubectl.ts';
import { type RedisEndpoint, type RedisServer, startRedis } from './redis.ts';

export {
  type CertificateAuthority,
  type CertificateAuthorityOptions,
  type CertificateFiles,
  type CertificateOptions,
  createCertificateAuthority,
  createSelfSignedCertificate,
  type IssuedCertificate,
  type KeyAlgorithm,
} from './pki.ts';
export { connectRedis, kubeClients } from './clients.ts';
export { MissingComponentError } from './errors.ts';
export { freePort, freePorts, freeUdpPorts } from './ports.ts';
export { poll } from './wait.ts';
export type { ControlPlaneEndpoint, KubeClients, RedisEndpoint, RedisServer };

/** The part of a tap Test the harness uses, so helpers accept any test or subtest. */
export interface TestContext {
  teardown(fn: () => unknown): void;
}

let fileRedis: Promise<RedisEndpoint> | undefined;
let fileControlPlane: Promise<ControlPlaneEndpoint> | undefined;

/**
 * The run's shared Redis. Other test files use it concurrently: namespace your keys and
 * channels, and never stop it; for outages use privateRedis().
 */
export function redis(): Promise<RedisEndpoint> {
  fileRedis ??= shared(harnessEnv.redisUrl, harnessEnv.redisError, 'redis-server', (url) => endpointOf(url), async () => {
    const server = await startRedis();
    tap.teardown(() => server.close());
    return server;
  });
  return fileRedis;
}

/** A redis-server for this test alone (stop/start/restart to simulate outages), closed at t's end. */
export async function privateRedis(t: TestContext): Promise<RedisServer> {
  const server = await startRedis();
  t.teardown(() => server.close());
  return server;
}

/** A connected ioredis client for `endpoint` (default: the shared Redis), disconnected at t's end. */
export async function redisClient(t: TestContext, endpoint?: RedisEndpoint, options?: RedisOptions): Promise<Redis> {
  const client = await connectRedis((endpoint ?? (await redis())).url, options);
  // Connection errors also reject the commands issued meanwhile, which is where tests look;
  // unlistened, ioredis would print each reconnect failure during simulated outages.
  client.on('error', () => undefined);
  t.teardown(() => {
    client.disconnect();
  });
  return client;
}

/**
 * The run's shared control plane (etcd, kube-apiserver, kube-controller-manager, the
 * experimental-channel Gateway API CRDs). Other test files use it concurrently: put
 * namespaced objects in testNamespace() and give cluster-scoped ones uniqueName()s.
 */
export function controlPlane(): Promise<ControlPlaneEndpoint> {
  fileControlPlane ??= shared(
    harnessEnv.kubeconfig,
    harnessEnv.controlPlaneError,
    'Kubernetes control plane',
    (kubeconfigPath) => ({ kubeconfigPath, server: kubeClients(kubeconfigPath).kubeConfig.getCurrentCluster()?.server ?? '' }),
    async () => {
      const started = await startControlPlane();
      tap.teardown(() => started.stop());
      return started;
    },
  );
  return fileControlPlane;
}

export interface KubeHarness extends KubeClients, ControlPlaneEndpoint {
  /** Runs kubectl with the admin kubeconfig; resolves whatever the exit code. */
  kubectl(args: readonly string[], options?: KubectlOptions): Promise<KubectlResult>;
}

/** Admin clients (client-node) and kubectl for the control plane. */
export async function kube(): Promise<KubeHarness> {
  const endpoint = await controlPlane();
  return {
    ...kubeClients(endpoint.kubeconfigPath),
    ...endpoint,
    kubectl: (args, options) => runKubectl(endpoint.kubeconfigPath, args, options),
  };
}

/** A new namespace named <prefix>-<random>, deleted at t's end (without waiting for it to go). */
export async function testNamespace(t: TestContext, prefix = 'test'): Promise<string> {
  const { core } = await kube();
  const name = uniqueName(prefix);
  await core.createNamespace({ body: { metadata: { name } } });
  t.teardown(async () => {
    await core.deleteNamespace({ name }).catch(() => undefined);
  });
  return name;
}

/** <prefix>-<8 hex chars>: a DNS-label-safe name unlikely to collide across test files. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

async function shared<T>(
  variable: string,
  errorVariable: string,
  component: string,
  fromEnv: (value: string) => T,
  startPrivate: () => Promise<T>,
): Promise<T> {
  const failure = process.env[errorVariable];
  if (failure !== undefined) {
    throw new Error(`the shared ${component} did not start (tests/run.ts): ${failure}`);
  }
  const value = process.env[variable];
  return value === undefined ? startPrivate() : fromEnv(value);
}

function endpointOf(url: string): RedisEndpoint {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port), url };
}

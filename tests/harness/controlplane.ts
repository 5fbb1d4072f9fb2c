// Starts a real Kubernetes control plane for tests: etcd, kube-apiserver and
// kube-controller-manager as built by hack/build-controlplane.sh, on free loopback ports,
// with generated certificates, RBAC, service-account keys, and the Gateway API CRDs.
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { type ControlPlaneBinaries, locateControlPlaneBinaries, locateGatewayApiCrds } from './controlplane-build.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { createObjects, loadManifests, waitForCrdsEstablished } from './manifests.ts';
import type { CrdChannel } from './paths.ts';
import { type CertificateAuthority, createCertificateAuthority } from './pki.ts';
import { freePorts } from './ports.ts';
import { ManagedProcess } from './process.ts';
import { makeTempDir, type TempDir } from './tempdir.ts';
import { poll, PollTimeoutError } from './wait.ts';

/** Where the control plane is and how to talk to it. */
export interface ControlPlaneEndpoint {
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** An admin (system:masters) kubeconfig with embedded credentials. */
  readonly kubeconfigPath: string;
}

export interface ControlPlane extends ControlPlaneEndpoint {
  /** Holds the components' logs (etcd.log, kube-apiserver.log, kube-controller-manager.log). */
  readonly dir: string;
  /** Stops the components (SIGTERM, then SIGKILL) and removes the data directory. */
  stop(): Promise<void>;
}

export interface ControlPlaneOptions {
  /** Which Gateway API CRD channel to install; default experimental (a superset of standard). */
  readonly crdChannel?: CrdChannel;
}

const serviceClusterIpRange = '10.96.0.0/16';
const kubernetesServiceIp = '10.96.0.1';
const startTimeoutMs = 60_000;

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  // Fail with the setup hint before spending time on anything else.
  const binaries = await locateControlPlaneBinaries();
  const crdFiles = await locateGatewayApiCrds(options.crdChannel ?? 'experimental');
  const dir = makeTempDir('controlplane');
  const processes: ManagedProcess[] = [];
  const stop = async (): Promise<void> => {
    // Dependents first: controller manager, then apiserver, then etcd.
    for (const child of [...processes].reverse()) await child.stop(5000);
    await dir.remove();
  };
  try {
    const [etcdPort, etcdPeerPort, apiPort] = (await freePorts(3)) as [number, number, number];
    const server = `https://127.0.0.1:${apiPort}`;
    const files = await writeCredentials(dir, server);
    // etcd and kube-apiserver start together: the apiserver retries etcd until it answers.
    const etcd = startEtcd(binaries, dir.path, etcdPort, etcdPeerPort);
    processes.push(etcd);
    const apiserver = startApiserver(binaries, files, etcdPort, apiPort);
    processes.push(apiserver);
    await waitForReadyz(server, files, [etcd, apiserver]);

    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(files.adminKubeconfig);
    const kcm = startControllerManager(binaries, files);
    processes.push(kcm);
    await Promise.all([
      installCrds(kubeConfig, crdFiles),
      waitForControllers(kubeConfig, [etcd, apiserver, kcm]),
    ]);
    return { server, kubeconfigPath: files.adminKubeconfig, dir: dir.path, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

interface CredentialFiles {
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly servingCert: string;
  readonly servingKey: string;
  readonly serviceAccountKey: string;
  readonly serviceAccountPub: string;
  readonly adminKubeconfig: string;
  readonly controllerManagerKubeconfig: string;
  readonly ca: CertificateAuthority;
  readonly admin: { readonly certPem: string; readonly keyPem: string };
}

async function writeCredentials(dir: TempDir, server: string): Promise<CredentialFiles> {
  const pki = join(dir.path, 'pki');
  await mkdir(pki);
  const ca = await createCertificateAuthority({ commonName: 'weir-test-kubernetes-ca' });
  const [serving, admin, kcm] = await Promise.all([
    ca.issueServer({
      commonName: 'kube-apiserver',
      dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
      ipAddresses: ['127.0.0.1', kubernetesServiceIp],
    }),
    ca.issueClient({ commonName: 'weir-test-admin', organizations: ['system:masters'] }),
    ca.issueClient({ commonName: 'system:kube-controller-manager' }),
  ]);
  const caFiles = await ca.writeFiles(pki, 'ca');
  const servingFiles = await serving.writeFiles(pki, 'apiserver');
  // Signs and verifies service-account tokens (kube-apiserver issues, both verify).
  const serviceAccount = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const serviceAccountKey = join(pki, 'sa.key');
  const serviceAccountPub = join(pki, 'sa.pub');
  await writeFile(serviceAccountKey, serviceAccount.privateKey, { mode: 0o600 });
  await writeFile(serviceAccountPub, serviceAccount.publicKey);
  const adminKubeconfig = join(dir.path, 'admin.kubeconfig');
  const controllerManagerKubeconfig = join(dir.path, 'kube-controller-manager.kubeconfig');
  await writeKubeconfig(adminKubeconfig, {
    server, caPem: ca.certPem, clientCertPem: admin.certPem, clientKeyPem: admin.keyPem, name: 'weir-test',
  });
  await writeKubeconfig(controllerManagerKubeconfig, {
    server, caPem: ca.certPem, clientCertPem: kcm.certPem, clientKeyPem: kcm.keyPem, name: 'kube-controller-manager',
  });
  return {
    dir: dir.path,
    caCert: caFiles.certFile,
    caKey: caFiles.keyFile,
    servingCert: servingFiles.certFile,
    servingKey: servingFiles.keyFile,
    serviceAccountKey,
    serviceAccountPub,
    adminKubeconfig,
    controllerManagerKubeconfig,
    ca,
    admin,
  };
}

function startEtcd(binaries: ControlPlaneBinaries, dir: string, port: number, peerPort: number): ManagedProcess {
  const client = `http://127.0.0.1:${port}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  return new ManagedProcess({
    name: 'etcd',
    command: binaries.etcd,
    args: [
      '--name=weir-test',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=weir-test=${peer}`,
      // The data is thrown away after the run; fsync would only make tests slow.
      '--unsafe-no-fsync',
      '--log-level=warn',
    ],
    logFile: join(dir, 'etcd.log'),
  });
}

function startApiserver(binaries: ControlPlaneBinaries, files: CredentialFiles, etcdPort: number, port: number): ManagedProcess {
  return new ManagedProcess({
    name: 'kube-apiserver',
    command: binaries.kubeApiserver,
    args: [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      '--endpoint-reconciler-type=none',
      `--secure-port=${port}`,
      `--cert-dir=${join(files.dir, 'apiserver')}`,
      `--tls-cert-file=${files.servingCert}`,
      `--tls-private-key-file=${files.servingKey}`,
      `--client-ca-file=${files.caCert}`,
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${files.serviceAccountPub}`,
      `--service-account-signing-key-file=${files.serviceAccountKey}`,
      `--service-cluster-ip-range=${serviceClusterIpRange}`,
      '--allow-privileged=true',
      '--profiling=false',
      '--v=1',
    ],
    logFile: join(files.dir, 'kube-apiserver.log'),
  });
}

function startControllerManager(binaries: ControlPlaneBinaries, files: CredentialFiles): ManagedProcess {
  return new ManagedProcess({
    name: 'kube-controller-manager',
    command: binaries.kubeControllerManager,
    args: [
      `--kubeconfig=${files.controllerManagerKubeconfig}`,
      // Nothing scrapes its health or metrics endpoint here.
      '--secure-port=0',
      '--leader-elect=false',
      // As in production clusters: each controller acts as its own service account under RBAC.
      '--use-service-account-credentials=true',
      `--service-account-private-key-file=${files.serviceAccountKey}`,
      `--root-ca-file=${files.caCert}`,
      `--cluster-signing-cert-file=${files.caCert}`,
      `--cluster-signing-key-file=${files.caKey}`,
      `--service-cluster-ip-range=${serviceClusterIpRange}`,
      // The default client throttling (20 qps) alone makes startup take seconds longer.
      '--kube-api-qps=500',
      '--kube-api-burst=1000',
      '--v=1',
    ],
    logFile: join(files.dir, 'kube-controller-manager.log'),
  });
}

async function waitForReadyz(server: string, files: CredentialFiles, watched: readonly ManagedProcess[]): Promise<void> {
  await poll(
    async () => {
      await failIfExited(watched, 'before kube-apiserver became ready');
      return (await readyz(server, files)) ? true : undefined;
    },
    { what: `${server}/readyz`, timeoutMs: startTimeoutMs, intervalMs: 100 },
  ).catch(async (error: unknown) => {
    if (!(error instanceof PollTimeoutError)) throw error;
    const apiserver = watched.find((p) => p.name === 'kube-apiserver');
    throw new Error(`${error.message}\nkube-apiserver log tail:\n${await apiserver?.logTail()}`);
  });
}

function readyz(server: string, files: CredentialFiles): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      `${server}/readyz`,
      { ca: files.ca.certPem, cert: files.admin.certPem, key: files.admin.keyPem, agent: false, timeout: 2000 },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('error', () => {
      resolve(false);
    });
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

async function installCrds(kubeConfig: KubeConfig, files: readonly string[]): Promise<void> {
  const objects = await loadManifests(files);
  await createObjects(kubeConfig, objects);
  const crdNames = objects.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => o.metadata?.name ?? '');
  await waitForCrdsEstablished(kubeConfig, crdNames);
}

/**
 * The controller manager is working once its service-account controller has created the
 * default ServiceAccount; by then the namespace and garbage-collector controllers started too.
 */
async function waitForControllers(kubeConfig: KubeConfig, watched: readonly ManagedProcess[]): Promise<void> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  await poll(
    async () => {
      await failIfExited(watched, 'while waiting for kube-controller-manager');
      await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' });
      return true;
    },
    { what: 'kube-controller-manager to create the default ServiceAccount', timeoutMs: startTimeoutMs, intervalMs: 100 },
  );
}

async function failIfExited(processes: readonly ManagedProcess[], context: string): Promise<void> {
  const crashed = processes.find((p) => p.exitInfo !== undefined);
  if (crashed !== undefined) throw await crashed.crashError(context);
}

import { createHash } from 'node:crypto';
import { access, constants, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MissingComponentError, setupHint } from './errors.ts';
import { controlPlaneBuildDir, controlPlaneSourceDir, type CrdChannel, gatewayApiCrdDir, gatewayApiVersion } from './paths.ts';

export interface ControlPlaneBinaries {
  readonly etcd: string;
  readonly kubeApiserver: string;
  readonly kubeControllerManager: string;
}

/**
 * The binaries hack/build-controlplane.sh built, after checking that they were built from
 * the current pins (its inputs.sha256 manifest), so a stale build fails loudly.
 */
export async function locateControlPlaneBinaries(): Promise<ControlPlaneBinaries> {
  const bin = join(controlPlaneBuildDir, 'bin');
  const binaries: ControlPlaneBinaries = {
    etcd: join(bin, 'etcd'),
    kubeApiserver: join(bin, 'kube-apiserver'),
    kubeControllerManager: join(bin, 'kube-controller-manager'),
  };
  for (const path of [binaries.etcd, binaries.kubeApiserver, binaries.kubeControllerManager]) {
    try {
      await access(path, constants.X_OK);
    } catch {
      throw new MissingComponentError(`the Kubernetes control plane is not built (${path} is missing): ${setupHint}`);
    }
  }
  const stale = await staleInputs();
  if (stale.length > 0) {
    throw new MissingComponentError(
      `the built control plane is older than the pins in hack/controlplane (${stale.join(', ')} changed): ${setupHint}`,
    );
  }
  return binaries;
}

async function staleInputs(): Promise<string[]> {
  let manifest: string;
  try {
    manifest = await readFile(join(controlPlaneBuildDir, 'inputs.sha256'), 'utf8');
  } catch {
    return ['inputs.sha256 missing'];
  }
  const stale: string[] = [];
  for (const line of manifest.split('\n')) {
    const match = /^([0-9a-f]{64}) {2}(.+)$/.exec(line);
    if (match === null) continue;
    const expected = match[1]!;
    const file = match[2]!;
    const actual = await readFile(join(controlPlaneSourceDir, file)).then(
      (bytes) => createHash('sha256').update(bytes).digest('hex'),
      () => 'missing',
    );
    if (actual !== expected) stale.push(file);
  }
  return stale;
}

/** The Gateway API CRD manifests hack/fetch-crds.sh stored for a channel. */
export async function locateGatewayApiCrds(channel: CrdChannel): Promise<string[]> {
  const dir = gatewayApiCrdDir(channel);
  const files = await readdir(dir).catch(() => []);
  const manifests = files.filter((f) => f.endsWith('.yaml')).sort().map((f) => join(dir, f));
  if (manifests.length === 0) {
    throw new MissingComponentError(`the Gateway API ${gatewayApiVersion} CRDs are not fetched (${dir} is empty): ${setupHint}`);
  }
  return manifests;
}

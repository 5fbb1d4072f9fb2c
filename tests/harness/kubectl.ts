import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { MissingComponentError } from './errors.ts';
import { controlPlaneBuildDir } from './paths.ts';
import { findExecutable } from './process.ts';

export interface KubectlResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface KubectlOptions {
  /** Written to kubectl's stdin, e.g. for `apply -f -`. */
  readonly input?: string;
}

/** The kubectl hack/setup.sh built at the control plane's version, else one from PATH. */
export function kubectlBinary(): string | undefined {
  return findExecutable(join(controlPlaneBuildDir, 'bin', 'kubectl')) ?? findExecutable('kubectl');
}

/**
 * Runs kubectl against the kubeconfig, as a user would. Resolves with the exit code and
 * output whether or not kubectl succeeded. The discovery cache lives next to the kubeconfig
 * so it goes away with the cluster instead of piling up in ~/.kube/cache.
 */
export async function runKubectl(kubeconfigPath: string, args: readonly string[], options: KubectlOptions = {}): Promise<KubectlResult> {
  const binary = kubectlBinary();
  if (binary === undefined) {
    throw new MissingComponentError('kubectl was not found: run `bash hack/setup.sh` (it builds kubectl with the control plane)');
  }
  const child = spawn(binary, [`--kubeconfig=${kubeconfigPath}`, `--cache-dir=${join(dirname(kubeconfigPath), 'kubectl-cache')}`, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.end(options.input ?? '');
  const exitCode = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      resolve(code ?? 1);
    });
  });
  return { exitCode, stdout, stderr };
}

import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';

export interface KubeconfigOptions {
  readonly server: string;
  readonly caPem: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
  /** Names the cluster, user and context. */
  readonly name: string;
}

/** Writes a self-contained kubeconfig (credentials embedded) that kubectl and client-node read. */
export async function writeKubeconfig(path: string, options: KubeconfigOptions): Promise<void> {
  const base64 = (text: string): string => Buffer.from(text).toString('base64');
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: options.name, cluster: { server: options.server, 'certificate-authority-data': base64(options.caPem) } }],
    users: [
      {
        name: options.name,
        user: { 'client-certificate-data': base64(options.clientCertPem), 'client-key-data': base64(options.clientKeyPem) },
      },
    ],
    contexts: [{ name: options.name, context: { cluster: options.name, user: options.name, namespace: 'default' } }],
    'current-context': options.name,
    preferences: {},
  };
  await writeFile(path, stringify(config), { mode: 0o600 });
}

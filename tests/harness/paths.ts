import { join } from 'node:path';

/** The repository root (this file lives in tests/harness/). */
export const repoRoot = join(import.meta.dirname, '..', '..');

/** Where hack/setup.sh puts its outputs; same default and override as hack/lib.sh. */
export const cacheDir = process.env.WEIR_CACHE_DIR ?? join(repoRoot, '.cache');

/** Must match GATEWAY_API_VERSION in hack/lib.sh. */
export const gatewayApiVersion = 'v1.7.0';

export type CrdChannel = 'standard' | 'experimental';

export function gatewayApiCrdDir(channel: CrdChannel): string {
  return join(cacheDir, 'gateway-api', gatewayApiVersion, channel);
}

/** The build hack/build-controlplane.sh published for the current pins. */
export const controlPlaneBuildDir = join(cacheDir, 'controlplane', 'current');

export const controlPlaneSourceDir = join(repoRoot, 'hack', 'controlplane');

#!/usr/bin/env node
/**
 * The `weir` command.
 *   weir operator                       run the operator (environment: see operator/run-operator.ts)
 *   weir dataplane                      run a dataplane pod process (environment: see dataplane/main.ts)
 *   weir standalone -f <dir> [...]      everything in one process from a folder of YAML (no cluster, no Redis)
 *   weir check -f <file|dir> [...]      translate offline and print the statuses a user would see
 *   weir version
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { EndpointSlice } from '../../api-types/gateway-api/index.ts';
import { loadObjects } from '../provider/file/load.ts';
import { formatStatuses } from '../status/format.ts';
import { ObjectStore, SNAPSHOT_KINDS } from '../store/object-store.ts';
import { translate } from '../translator/index.ts';

const USAGE = `usage:
  weir operator                          run the operator against the cluster (KUBECONFIG or in-cluster, REDIS_URL)
  weir dataplane                         run a dataplane (WEIR_GATEWAY, REDIS_URL, POD_NAME)
  weir standalone -f <dir> [-f <dir>]    run operator and dataplane in one process from YAML files
        [--echo-backends]                also start an echo backend on every 127.x endpoint of the EndpointSlices
        [--listen <address>]             address Gateway listeners bind to (default 127.0.0.1)
  weir check -f <file|dir> [...]         translate offline; print statuses; exit 1 if anything is unhealthy
  weir version
`;

/** package.json is two levels up from operator/cli/, three from dist/operator/cli/. */
function version(): string {
  for (const relative of ['../../package.json', '../../../package.json']) {
    try {
      const packageJson = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (packageJson.name === 'weir') return packageJson.version ?? 'unknown';
    } catch {
      // try the next location
    }
  }
  return 'unknown';
}

function files(args: readonly string[]): { paths: string[]; values: Record<string, string | boolean | string[] | undefined> } {
  const { values } = parseArgs({
    args: [...args],
    options: {
      file: { type: 'string', short: 'f', multiple: true },
      'echo-backends': { type: 'boolean' },
      listen: { type: 'string' },
    },
    allowPositionals: false,
  });
  const paths = values.file ?? [];
  if (paths.length === 0) throw new UsageError('-f <file|dir> is required');
  return { paths, values };
}

class UsageError extends Error {}

async function check(args: readonly string[]): Promise<number> {
  const { paths } = files(args);
  const loaded = await loadObjects(paths);
  for (const warning of loaded.warnings) process.stderr.write(`warning: ${warning}\n`);
  const store = new ObjectStore();
  for (const kind of SNAPSHOT_KINDS) store.replaceKind(kind, loaded.objects.get(kind) ?? []);
  const result = translate(store.snapshot());
  if (result.statuses.length === 0) {
    process.stdout.write('no object for Weir in these files (is there a GatewayClass with controllerName weir.dev/gateway-controller?)\n');
    return 1;
  }
  process.stdout.write(`${formatStatuses(result.statuses)}\n`);
  for (const output of result.configs) {
    const rules = output.config.listeners.reduce((sum, listener) => sum + ('rules' in listener ? listener.rules.length : 'routes' in listener ? listener.routes.length : listener.route === undefined ? 0 : 1), 0);
    process.stdout.write(`config ${output.gateway.namespace}/${output.gateway.name}: ${output.config.listeners.length} listeners, ${rules} routing rules, ${output.config.clusters.length} backends\n`);
  }
  const unhealthy = formatStatuses(result.statuses).includes('✗');
  return unhealthy || loaded.warnings.length > 0 ? 1 : 0;
}

async function standalone(args: readonly string[]): Promise<void> {
  const { paths, values } = files(args);
  const listenHost = typeof values.listen === 'string' ? values.listen : '127.0.0.1';
  const print = (text: string): void => { process.stdout.write(text); };
  const stops: (() => Promise<void>)[] = [];
  if (values['echo-backends'] === true) {
    const { loopbackBackends, startEchoBackends } = await import('../standalone/backends.ts');
    const loaded = await loadObjects(paths);
    const backends = loopbackBackends((loaded.objects.get('EndpointSlice') ?? []) as unknown as EndpointSlice[]);
    const servers = await startEchoBackends(backends, () => undefined);
    stops.push(async () => { await Promise.all(servers.map((server) => server.close())); });
    print(`started ${servers.length} echo backends: ${backends.map((backend) => `${backend.service} on ${backend.address}:${backend.port}`).join(', ')}\n`);
  }
  const { startStandalone } = await import('../standalone/standalone.ts');
  const { curlExamples } = await import('../standalone/curl.ts');
  const running = await startStandalone({ paths, print, listenHost });
  stops.unshift(() => running.stop());
  const { installProcessGuard } = await import('../../dataplane/telemetry/process-guard.ts');
  const { createLogger } = await import('../../dataplane/telemetry/log.ts');
  installProcessGuard({
    log: createLogger(),
    shutdown: async () => { for (const stop of stops) await stop(); },
    shutdownTimeoutMs: 10_000,
  });
  const examples = (running.reconciler.lastResult?.configs ?? []).flatMap((output) => curlExamples(output.config, listenHost));
  if (examples.length > 0) print(`\nWeir is serving. Try:\n${examples.map((line) => `  ${line}`).join('\n')}\n\nEdit the files in ${paths.join(', ')} and watch the statuses follow. Ctrl-C stops.\n`);
  const shutdown = (): void => {
    void (async () => {
      for (const stop of stops) await stop();
      process.exit(0);
    })();
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

async function main(argv: readonly string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'operator': {
      const { runOperator } = await import('../run-operator.ts');
      await runOperator();
      return undefined;
    }
    case 'dataplane':
      await import('../../dataplane/main.ts');
      return undefined;
    case 'standalone':
      await standalone(rest);
      return undefined;
    case 'check':
      return check(rest);
    case 'version':
      process.stdout.write(`weir ${version()}\n`);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

try {
  const code = await main(process.argv.slice(2));
  if (code !== undefined) process.exitCode = code;
} catch (error) {
  if (error instanceof UsageError || (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
    process.stderr.write(`weir: ${error.message}\n${USAGE}`);
    process.exitCode = 2;
  } else {
    throw error;
  }
}

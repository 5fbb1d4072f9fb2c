// The process-level guard of the entry points (dataplane, weir standalone): an exception or rejection that nothing
// handled is logged as fatal, counted in /metrics, and the process drains and exits with 1
// instead of dying mid-request.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { request } from 'undici';
import { freePorts, poll, redis } from '../harness/index.ts';
import { newGateway } from '../integration/dataplane-fixtures.ts';

for (const fault of ['rejection', 'exception'] as const) {
  const kind = fault === 'rejection' ? 'unhandledRejection' : 'uncaughtException';
  t.test(`an unhandled ${fault} is logged, counted and ends the process cleanly with status 1`, async (t) => {
    const { url } = await redis();
    const gateway = newGateway();
    const [adminPort] = (await freePorts(1)) as [number];
    const child = spawn(process.execPath, ['--import', './tests/security/fixtures/fault-on-signal.ts', 'dataplane/main.ts'], {
      env: {
        ...process.env,
        REDIS_URL: url,
        WEIR_GATEWAY: `${gateway.namespace}/${gateway.name}`,
        WEIR_LISTEN_HOST: '127.0.0.1',
        WEIR_ADMIN_HOST: '127.0.0.1',
        WEIR_ADMIN_PORT: String(adminPort),
        // Time to read /metrics while the process shuts down.
        WEIR_SHUTDOWN_DELAY_MS: '1500',
        WEIR_TEST_FAULT: fault,
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { output += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { output += chunk; });
    const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
    await poll(() => (output.includes('dataplane started') ? true : undefined), { what: 'dataplane started', timeoutMs: 15_000 });

    child.kill('SIGUSR2');
    const metrics = await poll(async () => {
      const response = await request(`http://127.0.0.1:${adminPort}/metrics`).catch(() => undefined);
      const text = await response?.body.text();
      return text?.includes(`weir_process_fatal_errors_total{kind="${kind}"} 1`) === true ? text : undefined;
    }, { what: 'the fatal error in /metrics', timeoutMs: 1_500, intervalMs: 50 });
    t.match(metrics, `weir_process_fatal_errors_total{kind="${kind}"} 1`, 'counted');
    const [code] = await exited;
    t.equal(code, 1, 'exit status 1');
    const lines = output.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { level: number; msg: string; kind?: string; err?: { message?: string } });
    const fatal = lines.find((line) => line.level === 60);
    t.equal(fatal?.kind, kind, 'logged as fatal with its kind');
    t.equal(fatal?.err?.message, `injected ${fault}`, 'with the error');
    t.ok(lines.some((line) => line.msg === 'stopped'), 'the dataplane shut down in order before exiting');
  });
}

t.test('weir standalone: an unhandled rejection is logged as fatal and ends the process with status 1', async (t) => {
  const [port] = (await freePorts(1)) as [number];
  const dir = mkdtempSync(join(tmpdir(), 'weir-guard-'));
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }); });
  writeFileSync(join(dir, 'gateway.yaml'), readFileSync('config/samples/quickstart/00-gateway.yaml', 'utf8').replace('port: 8080', `port: ${port}`));
  const child = spawn(process.execPath, ['--import', './tests/security/fixtures/fault-on-signal.ts', 'operator/cli/weir.ts', 'standalone', '-f', dir], {
    env: { ...process.env, WEIR_TEST_FAULT: 'rejection', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { output += chunk; });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { output += chunk; });
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
  await poll(() => (output.includes('Gateway default/demo') ? true : undefined), { what: 'standalone serving', timeoutMs: 30_000 });
  await new Promise((resolve) => setTimeout(resolve, 200));
  child.kill('SIGUSR2');
  const [code] = await exited;
  t.equal(code, 1, 'exit status 1');
  const fatal = output.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { level: number; kind?: string; err?: { message?: string } }).find((line) => line.level === 60);
  t.equal(fatal?.kind, 'unhandledRejection', 'logged as fatal with its kind');
  t.equal(fatal?.err?.message, 'injected rejection');
});

/**
 * Load helpers the throughput benches share: processes pinned to a CPU, wrk runs (pinned to
 * CPU 1, beside the echo backend), CPU time per request from /proc. Not a bench itself.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { REPO_ROOT } from './report.ts';

export const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
export const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);

export interface LoadResult {
  rps: number;
  p99Ms: number;
  /** CPU time the measured process spent per request (user + system), when a pid was given. */
  cpuUsPerRequest: number | undefined;
}

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK']).stdout.toString().trim()) || 100;

/** User + system CPU seconds used so far by `pid` (from /proc). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

export function requireTool(name: string): void {
  if (spawnSync('sh', ['-c', `command -v ${name}`]).status !== 0) throw new Error(`${name} is required: apt-get install -y ${name === 'taskset' ? 'util-linux' : name}`);
}

export function pinned(cpu: number, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  return spawn('taskset', ['-c', String(cpu), command, ...args], { env, stdio: ['ignore', 'ignore', 'inherit'], cwd: REPO_ROOT });
}

export async function waitForHttp(url: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      if (response.status < 500) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function parseLatencyMs(value: string, unit: string): number {
  const factor = unit === 'us' ? 0.001 : unit === 'ms' ? 1 : unit === 's' ? 1000 : NaN;
  return Number(value) * factor;
}

async function wrk(url: string, seconds: number): Promise<LoadResult> {
  const child = spawn('taskset', ['-c', '1', 'wrk', '-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', '-H', 'Host: bench.example.com', url], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  await once(child, 'exit');
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(output);
  const p99 = /\s99%\s+([\d.]+)(us|ms|s)/.exec(output);
  const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)/.exec(output);
  if (rps === null || p99 === null) throw new Error(`could not read wrk output:\n${output}`);
  if (errors !== null) console.log(`  wrk reported: ${errors[0]}`);
  return { rps: Number(rps[1]), p99Ms: parseLatencyMs(p99[1]!, p99[2]!), cpuUsPerRequest: undefined };
}

/** Warm up, then measure; `pid` is the process whose CPU use per request is recorded. */
export async function measure(name: string, url: string, pid: number | undefined): Promise<LoadResult> {
  await wrk(url, 2); // warm-up: JIT, connection pools
  const cpuBefore = pid === undefined ? 0 : cpuSeconds(pid);
  const result = await wrk(url, DURATION_S);
  if (pid !== undefined) result.cpuUsPerRequest = ((cpuSeconds(pid) - cpuBefore) * 1e6) / (result.rps * DURATION_S);
  console.log(`  ${name}: ${Math.round(result.rps)} req/s, p99 ${result.p99Ms.toFixed(2)} ms${result.cpuUsPerRequest === undefined ? '' : `, ${result.cpuUsPerRequest.toFixed(1)} µs CPU/request`}`);
  return result;
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await once(child, 'exit');
  clearTimeout(timer);
}


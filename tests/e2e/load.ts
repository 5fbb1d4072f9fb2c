// Steady HTTP load from the host against a Gateway address, counting every request that did
// not get a 200. Each request uses its own connection (Connection: close), so a request
// counts as failed when a connection lands on a pod that is gone or not serving, never
// because a reused idle connection raced the server closing it (a race clients that reuse
// connections absorb by retrying idempotent requests).
import { Agent, request } from 'undici';

export interface LoadOptions {
  readonly url: string;
  readonly host: string;
  readonly ratePerSecond: number;
}

export interface LoadReport {
  readonly sent: number;
  readonly failed: number;
  readonly seconds: number;
  readonly ratePerSecond: number;
  /** "status 503" / "ECONNREFUSED" → count. */
  readonly failures: Readonly<Record<string, number>>;
}

export interface Load {
  /** Stops sending, waits for the requests in flight, and reports. */
  stop(): Promise<LoadReport>;
}

const TICK_MS = 5;

export function startLoad(options: LoadOptions): Load {
  const agent = new Agent({ connect: { timeout: 5_000 }, headersTimeout: 15_000, bodyTimeout: 15_000 });
  const started = performance.now();
  const inFlight = new Set<Promise<void>>();
  const failures: Record<string, number> = {};
  let sent = 0;
  let failed = 0;

  const fail = (reason: string): void => {
    failed += 1;
    failures[reason] = (failures[reason] ?? 0) + 1;
  };
  const send = async (): Promise<void> => {
    try {
      const response = await request(options.url, { dispatcher: agent, headers: { host: options.host }, reset: true });
      await response.body.dump();
      if (response.statusCode !== 200) fail(`status ${response.statusCode}`);
    } catch (error) {
      fail((error as { code?: string }).code ?? (error as Error).message);
    }
  };
  // Sends whatever the schedule says is due, so timer lag never lowers the rate.
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - started) / 1000) * options.ratePerSecond) - sent;
    for (let i = 0; i < due; i += 1) {
      sent += 1;
      const pending = send().finally(() => inFlight.delete(pending));
      inFlight.add(pending);
    }
  }, TICK_MS);

  return {
    async stop() {
      clearInterval(timer);
      const seconds = (performance.now() - started) / 1000;
      await Promise.all(inFlight);
      await agent.close();
      return { sent, failed, seconds, ratePerSecond: sent / seconds, failures };
    },
  };
}

/** "N requests sent, M failed" plus the rate and failure reasons. */
export function describeLoad(what: string, report: LoadReport): string {
  const reasons = Object.entries(report.failures).map(([reason, count]) => `${reason}: ${count}`);
  return `${what}: ${report.sent} requests sent, ${report.failed} failed (${report.ratePerSecond.toFixed(0)} req/s over ${report.seconds.toFixed(1)} s${reasons.length > 0 ? `; ${reasons.join(', ')}` : ''})`;
}

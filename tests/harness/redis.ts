import { Redis } from 'ioredis';
import { join } from 'node:path';
import { MissingComponentError } from './errors.ts';
import { freePort } from './ports.ts';
import { findExecutable, ManagedProcess } from './process.ts';
import { makeTempDir, type TempDir } from './tempdir.ts';
import { poll } from './wait.ts';

/** Where a Redis server listens. */
export interface RedisEndpoint {
  readonly host: string;
  readonly port: number;
  /** redis://host:port */
  readonly url: string;
}

/** A redis-server this process owns; stop/start/restart keep the port so clients reconnect. */
export interface RedisServer extends RedisEndpoint {
  readonly running: boolean;
  /** Stops the server (SIGTERM, then SIGKILL): clients see the outage. */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty (there is no persistence). */
  start(): Promise<void>;
  restart(): Promise<void>;
  /** Stops it for good and removes its directory. */
  close(): Promise<void>;
}

const installHint = 'install it with `apt-get install -y redis-server` (Debian/Ubuntu), or run `bash .ci/run`';

/** Starts Debian's redis-server on a free 127.0.0.1 port with persistence off. */
export async function startRedis(): Promise<RedisServer> {
  const binary = findExecutable('redis-server');
  if (binary === undefined) {
    throw new MissingComponentError(`redis-server was not found on PATH: ${installHint}`);
  }
  const server = new LocalRedis(binary, await freePort(), makeTempDir('redis'));
  try {
    await server.start();
  } catch (error) {
    await server.close();
    throw error;
  }
  return server;
}

class LocalRedis implements RedisServer {
  readonly host = '127.0.0.1';
  readonly port: number;
  readonly url: string;
  readonly #binary: string;
  readonly #dir: TempDir;
  #process: ManagedProcess | undefined;

  constructor(binary: string, port: number, dir: TempDir) {
    this.#binary = binary;
    this.port = port;
    this.url = `redis://${this.host}:${port}`;
    this.#dir = dir;
  }

  get running(): boolean {
    return this.#process !== undefined && this.#process.exitInfo === undefined;
  }

  async start(): Promise<void> {
    if (this.running) return;
    const child = new ManagedProcess({
      name: 'redis-server',
      command: this.#binary,
      args: [
        '--bind', this.host,
        '--port', String(this.port),
        '--save', '',
        '--appendonly', 'no',
        '--dir', this.#dir.path,
        '--daemonize', 'no',
        '--loglevel', 'warning',
      ],
      logFile: join(this.#dir.path, 'redis.log'),
    });
    this.#process = child;
    await poll(
      async () => {
        if (child.exitInfo !== undefined) throw await child.crashError('while starting');
        return (await ping(this.port)) ? true : undefined;
      },
      { what: `redis-server to answer PING on port ${this.port}`, timeoutMs: 10_000, intervalMs: 20 },
    ).catch(async (error: unknown) => {
      await child.stop();
      throw error;
    });
  }

  async stop(): Promise<void> {
    await this.#process?.stop();
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async close(): Promise<void> {
    await this.stop();
    await this.#dir.remove();
  }
}

async function ping(port: number): Promise<boolean> {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    // Otherwise each failed probe leaves a 2 s timer that keeps the process alive.
    disconnectTimeout: 0,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

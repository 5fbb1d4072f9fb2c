import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, openSync } from 'node:fs';
import { appendFile, readFile } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
import { onEmergencyExit } from './cleanup.ts';
import { FatalError } from './wait.ts';

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ProcessOptions {
  /** Used in messages, e.g. "kube-apiserver". */
  readonly name: string;
  /** An absolute path (see findExecutable). */
  readonly command: string;
  readonly args: readonly string[];
  /** stdout and stderr both go here. */
  readonly logFile: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

/** Returns the absolute path of an executable found on PATH, or undefined. */
export function findExecutable(name: string): string | undefined {
  const candidates = isAbsolute(name)
    ? [name]
    : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, name));
  return candidates.find((path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

// The kernel kills a child started through `setpriv --pdeathsig` when its parent dies,
// even by SIGKILL, where no JavaScript cleanup can run. setpriv execs, so the pid is the
// component's own. It is part of util-linux, which every Debian system has.
const setpriv = findExecutable('setpriv');

/**
 * A long-running child process (a server) whose output goes to a log file. stop() sends
 * SIGTERM, then SIGKILL after a grace period. If this process exits without stop() (crash,
 * signal), the child is SIGKILLed from the exit hook.
 */
export class ManagedProcess {
  readonly name: string;
  readonly logFile: string;
  readonly exited: Promise<ExitInfo>;
  readonly #child: ChildProcess;
  #exit: ExitInfo | undefined;

  constructor(options: ProcessOptions) {
    this.name = options.name;
    this.logFile = options.logFile;
    const [command, args] = setpriv
      ? [setpriv, ['--pdeathsig', 'KILL', '--', options.command, ...options.args]]
      : [options.command, [...options.args]];
    const log = openSync(options.logFile, 'a');
    try {
      this.#child = spawn(command, args, {
        stdio: ['ignore', log, log],
        env: options.env ?? process.env,
        cwd: options.cwd,
      });
    } finally {
      closeSync(log);
    }
    const unregister = onEmergencyExit(() => {
      if (this.#exit === undefined) this.#child.kill('SIGKILL');
    });
    this.exited = new Promise((resolve) => {
      const done = (exit: ExitInfo): void => {
        if (this.#exit !== undefined) return;
        this.#exit = exit;
        unregister();
        resolve(exit);
      };
      this.#child.once('exit', (code, signal) => {
        done({ code, signal });
      });
      // 'error' without 'exit' means the spawn itself failed.
      this.#child.once('error', (error) => {
        done({ code: null, signal: null });
        void appendFile(options.logFile, `spawn failed: ${error.message}\n`).catch(() => undefined);
      });
    });
    // A server child must not keep the test process alive by itself; stop() waits for it.
    this.#child.unref();
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** How it exited, or undefined while it runs. */
  get exitInfo(): ExitInfo | undefined {
    return this.#exit;
  }

  async stop(graceMs = 5000): Promise<ExitInfo> {
    if (this.#exit !== undefined) return this.#exit;
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The last lines of the log, for error messages. */
  async logTail(lines = 40): Promise<string> {
    try {
      const text = await readFile(this.logFile, 'utf8');
      return text.trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Describes an unexpected exit, with the log's tail; fatal to any poll() waiting on it. */
  async crashError(context: string): Promise<FatalError> {
    const exit = this.#exit;
    const how = exit === undefined ? 'is running' : exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    return new FatalError(`${this.name} ${how} ${context}; last log lines (${this.logFile}):\n${await this.logTail()}`);
  }
}

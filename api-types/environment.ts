/**
 * The one reader of process settings for both processes (operator and dataplane): a value that
 * is set but wrong is an error naming the variable, never a silent fallback, so a typo in a
 * Deployment stops the pod with a clear message instead of running with a default.
 */
import { parseGatewayId, type GatewayRef } from './gateway-ref.ts';

export class EnvironmentError extends Error {
  override readonly name = 'EnvironmentError';
}

export class Environment {
  readonly #values: Readonly<Record<string, string | undefined>>;

  constructor(values: Readonly<Record<string, string | undefined>> = process.env) {
    this.#values = values;
  }

  /** The value, or `undefined` when unset or empty. */
  optional(name: string): string | undefined {
    const value = this.#values[name];
    return value === undefined || value === '' ? undefined : value;
  }

  required(name: string): string {
    const value = this.optional(name);
    if (value === undefined) throw new EnvironmentError(`${name} must be set`);
    return value;
  }

  /** A whole number from `min` (default 0) up; `fallback` when unset. */
  integer(name: string, fallback: number, min = 0): number {
    const value = this.optional(name);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isSafeInteger(parsed) || parsed < min) throw new EnvironmentError(`${name} must be an integer of at least ${min}, got ${value}`);
    return parsed;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.optional(name);
    if (value === undefined) return fallback;
    const match = allowed.find((candidate) => candidate === value);
    if (match === undefined) throw new EnvironmentError(`${name} must be ${allowed.join(', ')}, got ${value}`);
    return match;
  }

  gateway(name: string): GatewayRef {
    const value = this.required(name);
    const gateway = parseGatewayId(value);
    if (gateway === undefined) throw new EnvironmentError(`${name} must be <namespace>/<name>, got ${value}`);
    return gateway;
  }
}

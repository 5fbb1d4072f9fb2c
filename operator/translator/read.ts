/**
 * Small value checks on typed input. Objects reach the translator with their kinds' shapes
 * (provider/admission.ts); these judge the values: a non-empty name, a safe integer, a port.
 * WeirParameters' `spec` is admitted as is, so parameters.ts still reads it through `field`.
 */

export type UnknownRecord = Readonly<Record<string, unknown>>;

export function asRecord(value: unknown): UnknownRecord | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as UnknownRecord) : undefined;
}

/** Own property only, so `__proto__`/`constructor` keys in input never reach the prototype. */
export function field(value: unknown, key: string): unknown {
  const record = asRecord(value);
  if (record === undefined) return undefined;
  const found = record[key];
  // Most reads miss (optional fields): only a hit needs the own-property check.
  return found !== undefined && Object.hasOwn(record, key) ? found : undefined;
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** A non-empty string. */
export function name(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

export function int(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined;
}

export function bool(value: unknown): boolean | undefined {
  return typeof value === 'boolean' ? value : undefined;
}

export function list(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? (value as readonly unknown[]) : [];
}

export function isPort(value: number | undefined): value is number {
  return value !== undefined && value >= 1 && value <= 65535;
}

/** String-to-string map with sorted keys (deterministic output); non-string values are dropped. */
export function stringMap(value: unknown): Readonly<Record<string, string>> {
  const record = asRecord(value);
  const result: Record<string, string> = {};
  if (record === undefined) return result;
  for (const key of Object.keys(record).sort()) {
    const entry = record[key];
    if (typeof entry === 'string') {
      Object.defineProperty(result, key, { value: entry, enumerable: true, writable: true, configurable: true });
    }
  }
  return result;
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A short, safe rendering of an untrusted value for status messages. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return value.length > 64 ? `${value.slice(0, 64)}…` : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === undefined || value === null) return '(none)';
  return Array.isArray(value) ? '(list)' : '(object)';
}

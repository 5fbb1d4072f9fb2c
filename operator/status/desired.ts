/**
 * Turns what the translator computed for an object into the `status` to write, merged with
 * the status the object has now:
 * - `lastTransitionTime` is kept from the existing condition of the same type when its
 *   `status` did not change, and set to `now` otherwise (the translator has no clock);
 * - route `parents` and policy `ancestors` written by other controllers are kept, and so are
 *   conditions of types Weir never writes (another controller's, on GatewayClasses, Gateways,
 *   ListenerSets and listeners), untouched and after ours;
 * - Gateway `addresses` come from the infra provisioner.
 * `sameStatus` compares two statuses ignoring `lastTransitionTime`, so a write happens only
 * when something a user can see changed.
 */
import { ConditionType, type ObjectStatus } from '../translator/index.ts';
import { canonicalJson } from '../publisher/digest.ts';

type Json = Record<string, unknown>;

interface ConditionLike {
  readonly type: string;
  readonly status: string;
  readonly lastTransitionTime?: string;
}

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function array(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function withTransitionTimes(desired: readonly ConditionLike[], current: unknown, now: string): Json[] {
  const existing = new Map<string, ConditionLike>();
  for (const entry of array(current)) {
    if (isRecord(entry) && typeof entry.type === 'string' && typeof entry.status === 'string') {
      existing.set(entry.type, entry as unknown as ConditionLike);
    }
  }
  return desired.map((condition) => {
    const before = existing.get(condition.type);
    const lastTransitionTime = before !== undefined && before.status === condition.status && typeof before.lastTransitionTime === 'string' ? before.lastTransitionTime : now;
    return { ...condition, lastTransitionTime };
  });
}

const OWN_CONDITION_TYPES: ReadonlySet<string> = new Set(Object.values(ConditionType));

/** Our conditions (see `withTransitionTimes`) followed by the current ones of types we never write. */
function withForeignConditions(desired: readonly ConditionLike[], current: unknown, now: string): Json[] {
  const foreign = array(current).filter((entry) => isRecord(entry) && typeof entry.type === 'string' && !OWN_CONDITION_TYPES.has(entry.type));
  return [...withTransitionTimes(desired, current, now), ...(foreign as Json[])];
}

function parentKey(ref: unknown): string {
  return canonicalJson(ref);
}

/** Merges our entries of `parents`/`ancestors` into the current list, keeping other controllers'. */
function mergeEntries(ours: readonly Json[], current: unknown, refField: 'parentRef' | 'ancestorRef', controllerName: string, now: string): Json[] {
  const currentEntries = array(current).filter(isRecord);
  const ourCurrent = new Map<string, Json>();
  for (const entry of currentEntries) if (entry.controllerName === controllerName) ourCurrent.set(parentKey(entry[refField]), entry);
  const merged: Json[] = currentEntries.filter((entry) => entry.controllerName !== controllerName);
  for (const entry of ours) {
    const before = ourCurrent.get(parentKey(entry[refField]));
    merged.push({ ...entry, conditions: withTransitionTimes(entry.conditions as ConditionLike[], before?.conditions, now) });
  }
  return merged;
}

export interface DesiredStatusContext {
  readonly now: string;
  readonly controllerName: string;
  /** Gateway addresses from the provisioner (Gateway only). */
  readonly addresses?: readonly { readonly type: string; readonly value: string }[];
}

/** The full `status` to write for `computed`, given the object's current `status`. */
export function desiredStatus(computed: ObjectStatus, current: unknown, context: DesiredStatusContext): Json {
  const before = isRecord(current) ? current : {};
  const { now, controllerName } = context;
  switch (computed.kind) {
    case 'GatewayClass':
      return { ...before, conditions: withForeignConditions(computed.status.conditions, before.conditions, now), supportedFeatures: computed.status.supportedFeatures };
    case 'Gateway': {
      const beforeListeners = new Map<string, Json>();
      for (const entry of array(before.listeners)) if (isRecord(entry) && typeof entry.name === 'string') beforeListeners.set(entry.name, entry);
      const status: Json = {
        ...before,
        conditions: withForeignConditions(computed.status.conditions, before.conditions, now),
        listeners: computed.status.listeners.map((listener) => ({
          ...listener,
          conditions: withForeignConditions(listener.conditions, beforeListeners.get(listener.name)?.conditions, now),
        })),
        attachedListenerSets: computed.status.attachedListenerSets,
      };
      if (context.addresses !== undefined && context.addresses.length > 0) status.addresses = context.addresses;
      else delete status.addresses;
      return status;
    }
    case 'ListenerSet': {
      const beforeListeners = new Map<string, Json>();
      for (const entry of array(before.listeners)) if (isRecord(entry) && typeof entry.name === 'string') beforeListeners.set(entry.name, entry);
      return {
        ...before,
        conditions: withForeignConditions(computed.status.conditions, before.conditions, now),
        listeners: computed.status.listeners.map((listener) => ({
          ...listener,
          conditions: withForeignConditions(listener.conditions, beforeListeners.get(listener.name)?.conditions, now),
        })),
      };
    }
    case 'BackendTLSPolicy':
      return { ...before, ancestors: mergeEntries(computed.status.ancestors, before.ancestors, 'ancestorRef', controllerName, now) };
    default:
      return { ...before, parents: mergeEntries(computed.status.parents as unknown as Json[], before.parents, 'parentRef', controllerName, now) };
  }
}

function withoutTransitionTimes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutTransitionTimes);
  if (!isRecord(value)) return value;
  const copy: Json = {};
  for (const [key, item] of Object.entries(value)) if (key !== 'lastTransitionTime') copy[key] = withoutTransitionTimes(item);
  return copy;
}

/** Equal as a user sees them, ignoring `lastTransitionTime`. */
export function sameStatus(a: unknown, b: unknown): boolean {
  return canonicalJson(withoutTransitionTimes(a ?? {})) === canonicalJson(withoutTransitionTimes(b ?? {}));
}

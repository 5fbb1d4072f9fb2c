/** What every route kind shares: hostnames and the summary of its rules for status. */
import type { ParentReference } from '../../api-types/gateway-api/index.ts';
import { Reason, type Problem } from './conditions.ts';
import { normalizeHostname } from './hostnames.ts';
import type { Meta } from './meta.ts';
import type { TranslatedRule } from './rule-actions.ts';
import type { RouteKind } from './status.ts';

export interface RouteTranslation {
  readonly kind: RouteKind;
  readonly meta: Meta;
  readonly parentRefs: readonly ParentReference[];
  /** Undefined for TCPRoute, which has no hostnames. */
  readonly hostnames: readonly string[] | undefined;
  /** The route as a whole cannot be accepted (e.g. an invalid hostname). */
  readonly routeProblem: Problem | undefined;
  readonly rules: readonly TranslatedRule[];
}

export function readHostnames(entries: readonly string[] = []): { hostnames: string[]; problem?: Problem } {
  if (entries.length === 1) {
    // The common case, without the set and the sort.
    const only = entries[0] ?? '';
    const normalized = normalizeHostname(only);
    return normalized === undefined ? { hostnames: [], problem: { reason: Reason.UnsupportedValue, message: `invalid hostname ${only}` } } : { hostnames: [normalized] };
  }
  const hostnames = new Set<string>();
  for (const entry of entries) {
    const normalized = normalizeHostname(entry);
    if (normalized === undefined) return { hostnames: [], problem: { reason: Reason.UnsupportedValue, message: `invalid hostname ${entry}` } };
    hostnames.add(normalized);
  }
  return { hostnames: [...hostnames].sort() };
}

/** The route-level verdict from its rules: whole-route problem, partially invalid, refs. */
export function summarizeRules(route: RouteTranslation): { notAccepted?: Problem; partiallyInvalid?: Problem; refProblem?: Problem } {
  if (route.routeProblem !== undefined) return { notAccepted: route.routeProblem };
  const invalid = route.rules.filter((rule) => rule.invalid !== undefined);
  const refProblem = route.rules.find((rule) => rule.refProblem !== undefined)?.refProblem;
  const firstInvalid = invalid[0]?.invalid;
  const summary: { notAccepted?: Problem; partiallyInvalid?: Problem; refProblem?: Problem } = {};
  if (refProblem !== undefined) summary.refProblem = refProblem;
  if (firstInvalid !== undefined) {
    if (invalid.length === route.rules.length) summary.notAccepted = firstInvalid;
    else summary.partiallyInvalid = { reason: firstInvalid.reason, message: `${invalid.length} of ${route.rules.length} rules dropped: ${firstInvalid.message}` };
  }
  return summary;
}

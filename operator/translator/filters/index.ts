/**
 * The translator's route filters, registered here and nowhere else. The order is the order of
 * the filters' fields in the contract output (golden files and digests depend on it), not the
 * order they run in: the dataplane's registry (`dataplane/filters/index.ts`) decides that.
 */
import { Reason, type Problem } from '../conditions.ts';
import type { RouteFilter } from '../../../api-types/gateway-api/index.ts';
import { cors } from './cors.ts';
import { extensionRef } from './extension-ref.ts';
import type { FilterContext, FilterFields, FilterOutput, FilterPlace, RouteFilterDefinition } from './filter.ts';
import { requestHeaderModifier, responseHeaderModifier } from './header-modifiers.ts';
import { requestMirror } from './request-mirror.ts';
import { requestRedirect } from './request-redirect.ts';
import { urlRewrite } from './url-rewrite.ts';

export type { FilterContext, FilterFields, FilterPlace } from './filter.ts';

export const ROUTE_FILTERS: readonly RouteFilterDefinition[] = [
  cors,
  requestRedirect,
  requestHeaderModifier,
  responseHeaderModifier,
  urlRewrite,
  requestMirror,
  extensionRef,
];

const BY_TYPE = new Map(ROUTE_FILTERS.map((definition, index) => [definition.type, { definition, index }] as const));

/** The Gateway API features the registered filters provide. */
export const FILTER_FEATURES: readonly string[] = ROUTE_FILTERS.flatMap((definition) => definition.features);

export interface FilterResult extends FilterOutput {
  readonly fields: FilterFields;
  /** The rule cannot be served (dropped, route PartiallyInvalid / not Accepted). */
  readonly invalid: Problem | undefined;
}

export function translateFilters(rawFilters: readonly RouteFilter[] | undefined, place: FilterPlace, context: FilterContext): FilterResult {
  const output: FilterOutput = { mirrors: [], clusters: [], refProblem: undefined, failClosed: false, answersLocally: false };
  if (rawFilters === undefined) return { ...output, fields: {}, invalid: undefined };
  let invalid: Problem | undefined;
  const produced: (FilterFields | undefined)[] = [];
  const seen = new Set<string>();
  for (const filter of rawFilters) {
    const { type } = filter;
    const entry = BY_TYPE.get(type);
    if (entry === undefined || !entry.definition.places.includes(place)) {
      invalid ??= { reason: Reason.UnsupportedValue, message: `filter type ${type || '(none)'} is not supported here` };
      continue;
    }
    if (entry.definition.repeatable !== true && seen.has(type)) {
      invalid ??= { reason: Reason.UnsupportedValue, message: `filter ${type} appears more than once` };
      continue;
    }
    seen.add(type);
    const result = entry.definition.translate(filter, context, output);
    if (result === undefined) continue;
    if ('reason' in result) invalid ??= result;
    else produced[entry.index] = result;
  }
  const fields: FilterFields = {};
  for (const [index, definition] of ROUTE_FILTERS.entries()) {
    if (produced[index] === undefined) continue;
    Object.assign(fields, produced[index]);
    for (const other of definition.incompatibleWith ?? []) {
      const otherEntry = BY_TYPE.get(other);
      if (otherEntry !== undefined && produced[otherEntry.index] !== undefined) {
        invalid ??= { reason: Reason.IncompatibleFilters, message: `${definition.type} and ${other} cannot be combined` };
      }
    }
  }
  return { ...output, fields, invalid };
}

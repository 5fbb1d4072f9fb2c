/**
 * ExtensionRef: Weir supports no extension kinds, so the reference is reported unresolvable and
 * the rule (or the backendRef carrying it) answers 500 rather than skip a filter it cannot run.
 */
import { Reason } from '../conditions.ts';
import type { RouteFilterDefinition } from './filter.ts';

export const extensionRef: RouteFilterDefinition = {
  type: 'ExtensionRef',
  places: ['HTTPRoute rule', 'HTTPRoute backendRef', 'GRPCRoute rule', 'GRPCRoute backendRef'],
  features: [],
  repeatable: true,
  translate(filter, _context, output) {
    const ref = filter.extensionRef;
    output.refProblem ??= {
      reason: Reason.InvalidKind,
      message: `ExtensionRef ${String(ref?.group)}/${String(ref?.kind)} ${String(ref?.name)} is not supported`,
    };
    output.failClosed = true;
    return undefined;
  },
};

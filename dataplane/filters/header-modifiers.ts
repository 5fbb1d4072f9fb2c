/** RequestHeaderModifier and ResponseHeaderModifier: the rule's modifier, then the backendRef's. */
import type { HeaderModifier } from '../../api-types/dataplane-config.ts';
import type { DataplaneFilter } from './filter.ts';
import type { HeaderMap } from './headers.ts';

export interface CompiledHeaderModifier {
  readonly set: readonly (readonly [string, string])[];
  readonly add: readonly (readonly [string, string])[];
  readonly remove: readonly string[];
}

export function compileHeaderModifier(modifier: HeaderModifier | undefined): CompiledHeaderModifier | undefined {
  if (modifier === undefined) return undefined;
  if (modifier.set.length === 0 && modifier.add.length === 0 && modifier.remove.length === 0) return undefined;
  const lower = (entry: { name: string; value: string }): readonly [string, string] => [entry.name.toLowerCase(), entry.value];
  return { set: modifier.set.map(lower), add: modifier.add.map(lower), remove: modifier.remove.map((name) => name.toLowerCase()) };
}

/** Applies set, then add (as an extra header line), then remove. */
export function applyHeaderModifier(headers: HeaderMap, modifier: CompiledHeaderModifier): void {
  for (const [name, value] of modifier.set) headers[name] = value;
  for (const [name, value] of modifier.add) {
    const existing = headers[name];
    headers[name] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  for (const name of modifier.remove) Reflect.deleteProperty(headers, name);
}

/** The rule's modifier and then the backend's, as one function; undefined when neither changes anything. */
function chain(rule: HeaderModifier | undefined, backend: HeaderModifier | undefined): ((headers: HeaderMap) => void) | undefined {
  const first = compileHeaderModifier(rule);
  const second = compileHeaderModifier(backend);
  if (first === undefined && second === undefined) return undefined;
  return (headers) => {
    if (first !== undefined) applyHeaderModifier(headers, first);
    if (second !== undefined) applyHeaderModifier(headers, second);
  };
}

export const requestHeaderModifier: DataplaneFilter = {
  type: 'RequestHeaderModifier',
  backend(action, backend) {
    const apply = chain(action.requestHeaders, backend.requestHeaders);
    return apply === undefined ? undefined : { requestHeaders: apply };
  },
};

export const responseHeaderModifier: DataplaneFilter = {
  type: 'ResponseHeaderModifier',
  backend(action, backend) {
    const apply = chain(action.responseHeaders, backend.responseHeaders);
    return apply === undefined ? undefined : { responseHeaders: apply };
  },
};

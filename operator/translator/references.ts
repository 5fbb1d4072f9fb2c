/**
 * ReferenceGrant: whether an object in one namespace may refer to an object in another.
 * Grants are not transitive, so chains or cycles of grants have no effect beyond each grant.
 */
import type { ReferenceGrant } from '../../api-types/gateway-api/index.ts';
import type { Entry } from './meta.ts';
import { name } from './read.ts';

export interface ReferenceFrom {
  readonly group: string;
  readonly kind: string;
  readonly namespace: string;
}

export interface ReferenceTo {
  readonly group: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

interface GrantRule {
  readonly fromGroup: string;
  readonly fromKind: string;
  readonly fromNamespace: string;
  /** Undefined: every object of the kind in the grant's namespace. */
  readonly toName: string | undefined;
}

export class ReferenceGrants {
  /** `<to namespace>|<to group>|<to kind>` → rules. */
  readonly #rules = new Map<string, GrantRule[]>();

  constructor(grants: readonly Entry<ReferenceGrant>[]) {
    for (const { meta, object } of grants) {
      const froms = object.spec.from.filter((from) => from.kind !== '' && from.namespace !== '');
      for (const to of object.spec.to) {
        const { kind, group } = to;
        if (kind === '') continue;
        const toName = name(to.name);
        const mapKey = `${meta.namespace}|${group}|${kind}`;
        const rules = this.#rules.get(mapKey) ?? [];
        for (const from of froms) {
          rules.push({ fromGroup: from.group, fromKind: from.kind, fromNamespace: from.namespace, toName });
        }
        this.#rules.set(mapKey, rules);
      }
    }
  }

  /** Same-namespace references are always allowed. */
  permits(from: ReferenceFrom, to: ReferenceTo): boolean {
    if (from.namespace === to.namespace) return true;
    const rules = this.#rules.get(`${to.namespace}|${to.group}|${to.kind}`);
    if (rules === undefined) return false;
    return rules.some(
      (rule) =>
        rule.fromGroup === from.group &&
        rule.fromKind === from.kind &&
        rule.fromNamespace === from.namespace &&
        (rule.toName === undefined || rule.toName === to.name),
    );
  }
}

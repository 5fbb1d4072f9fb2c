/** Namespace selection for allowedRoutes and allowedListeners (From: All, Same, Selector, None). */
import type { Problem } from './conditions.ts';
import { Reason } from './conditions.ts';
import { compileSelector } from './label-selector.ts';
import type { Namespace, NamespacesFrom } from '../../api-types/gateway-api/index.ts';
import type { Entry } from './meta.ts';

export class NamespaceLabels {
  readonly #labels = new Map<string, Readonly<Record<string, string>>>();

  constructor(namespaces: readonly Entry<Namespace>[]) {
    for (const { meta } of namespaces) this.#labels.set(meta.name, meta.labels);
  }

  /** Labels of a namespace, including the automatic `kubernetes.io/metadata.name`. */
  of(namespace: string): Readonly<Record<string, string>> {
    return { ...this.#labels.get(namespace), 'kubernetes.io/metadata.name': namespace };
  }
}

export type NamespaceFilter = (namespace: string) => boolean;

/**
 * Compiles a `namespaces` stanza (`{from, selector}`) relative to the owner's namespace.
 * A malformed stanza allows nothing and reports a problem.
 */
export function namespaceFilter(
  stanza: NamespacesFrom | undefined,
  ownerNamespace: string,
  defaultFrom: 'Same' | 'None',
  labels: NamespaceLabels,
): { filter: NamespaceFilter; problem?: Problem } {
  const from = stanza?.from ?? defaultFrom;
  switch (from) {
    case 'All':
      return { filter: () => true };
    case 'Same':
      return { filter: (namespace) => namespace === ownerNamespace };
    case 'None':
      return { filter: () => false };
    case 'Selector': {
      const selector = stanza?.selector;
      if (selector === undefined) return { filter: () => false, problem: { reason: Reason.UnsupportedValue, message: 'from: Selector needs a selector' } };
      const matches = compileSelector(selector);
      return { filter: (namespace) => matches(labels.of(namespace)) };
    }
    default:
      return { filter: () => false, problem: { reason: Reason.UnsupportedValue, message: `unknown namespaces.from ${from}` } };
  }
}

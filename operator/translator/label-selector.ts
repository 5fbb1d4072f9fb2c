/** metav1.LabelSelector matching. */
import type { LabelSelector } from '../../api-types/gateway-api/index.ts';

export type LabelMatcher = (labels: Readonly<Record<string, string>>) => boolean;

const NOTHING: LabelMatcher = () => false;

/** Compiles a selector; one with an unknown operator matches nothing (fail closed). */
export function compileSelector(selector: LabelSelector | undefined): LabelMatcher {
  if (selector === undefined) return () => true;
  const requirements: LabelMatcher[] = [];
  for (const expression of selector.matchExpressions ?? []) {
    const { key: labelKey, operator } = expression;
    const values = expression.values ?? [];
    switch (operator) {
      case 'In':
        requirements.push((labels) => labels[labelKey] !== undefined && values.includes(labels[labelKey]));
        break;
      case 'NotIn':
        requirements.push((labels) => labels[labelKey] === undefined || !values.includes(labels[labelKey]));
        break;
      case 'Exists':
        requirements.push((labels) => Object.hasOwn(labels, labelKey));
        break;
      case 'DoesNotExist':
        requirements.push((labels) => !Object.hasOwn(labels, labelKey));
        break;
      default:
        return NOTHING;
    }
  }
  const labelEntries = Object.entries(selector.matchLabels ?? {});
  return (labels) =>
    labelEntries.every(([k, v]) => Object.hasOwn(labels, k) && labels[k] === v) && requirements.every((requirement) => requirement(labels));
}

/** metav1.LabelSelector matching over untrusted selector objects. */
import { field, list, str, stringMap } from './read.ts';

export type LabelMatcher = (labels: Readonly<Record<string, string>>) => boolean;

const NOTHING: LabelMatcher = () => false;

/** Compiles a selector; a malformed selector matches nothing (fail closed). */
export function compileSelector(selector: unknown): LabelMatcher {
  if (selector === undefined || selector === null) return () => true;
  if (typeof selector !== 'object' || Array.isArray(selector)) return NOTHING;
  const matchLabels = stringMap(field(selector, 'matchLabels'));
  const requirements: LabelMatcher[] = [];
  for (const expression of list(field(selector, 'matchExpressions'))) {
    const labelKey = str(field(expression, 'key'));
    const operator = str(field(expression, 'operator'));
    const values = list(field(expression, 'values')).filter((v): v is string => typeof v === 'string');
    if (labelKey === undefined) return NOTHING;
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
  const labelEntries = Object.entries(matchLabels);
  return (labels) =>
    labelEntries.every(([k, v]) => Object.hasOwn(labels, k) && labels[k] === v) && requirements.every((requirement) => requirement(labels));
}

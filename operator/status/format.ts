/**
 * Statuses as a user reads them (`weir check`, standalone logs): one line per object with its
 * conditions, one per listener or route parent, and the reason and message of every condition
 * that is not in its healthy state.
 */
import type { ObjectStatus } from '../translator/index.ts';

interface ConditionView {
  readonly type: string;
  readonly status: string;
  readonly reason: string;
  readonly message: string;
}

/** Conditions whose healthy state is False. */
const HEALTHY_FALSE = new Set(['Conflicted', 'PartiallyInvalid', 'InsecureFrontendValidationMode']);

function healthy(condition: ConditionView): boolean {
  return HEALTHY_FALSE.has(condition.type) ? condition.status === 'False' : condition.status === 'True';
}

function summary(conditions: readonly ConditionView[]): string {
  return conditions.map((condition) => `${healthy(condition) ? '' : '✗ '}${condition.type}=${condition.status}`).join('  ');
}

function problems(conditions: readonly ConditionView[], indent: string): string[] {
  return conditions.filter((condition) => !healthy(condition)).map((condition) => `${indent}  ${condition.type} ${condition.reason}: ${condition.message}`);
}

function name(status: ObjectStatus): string {
  return status.namespace === '' ? status.name : `${status.namespace}/${status.name}`;
}

function parentName(ref: { readonly kind: string; readonly namespace: string; readonly name: string; readonly sectionName?: string; readonly port?: number }): string {
  const section = ref.sectionName === undefined ? '' : `/${ref.sectionName}`;
  const port = ref.port === undefined ? '' : `:${ref.port}`;
  return `${ref.kind} ${ref.namespace}/${ref.name}${section}${port}`;
}

export function formatStatus(status: ObjectStatus): string[] {
  const head = `${status.kind} ${name(status)}`;
  switch (status.kind) {
    case 'GatewayClass':
    case 'Gateway':
    case 'ListenerSet': {
      const lines = [`${head}  ${summary(status.status.conditions)}`, ...problems(status.status.conditions, '')];
      if (status.kind !== 'GatewayClass') {
        for (const listener of status.status.listeners) {
          lines.push(`  listener ${listener.name}  ${summary(listener.conditions)}  attachedRoutes=${listener.attachedRoutes}`);
          lines.push(...problems(listener.conditions, '  '));
        }
      }
      return lines;
    }
    case 'BackendTLSPolicy': {
      const lines = [head];
      for (const ancestor of status.status.ancestors) {
        lines.push(`  for ${parentName(ancestor.ancestorRef)}  ${summary(ancestor.conditions)}`, ...problems(ancestor.conditions, '  '));
      }
      return lines;
    }
    default: {
      const lines = [head];
      for (const parent of status.status.parents) {
        lines.push(`  on ${parentName(parent.parentRef)}  ${summary(parent.conditions)}`, ...problems(parent.conditions, '  '));
      }
      return lines;
    }
  }
}

export function formatStatuses(statuses: readonly ObjectStatus[]): string {
  return statuses.flatMap(formatStatus).join('\n');
}

/**
 * The dataplane's route filters, registered here and nowhere else. The order is the order the
 * stages run in: a URL rewrite's Host comes before the header modifiers (which may override
 * it), response modifiers before CORS adds its headers, and a CORS preflight is answered
 * before a redirect would be.
 */
import type { RuleAction, WeightedBackend } from '../../api-types/dataplane-config.ts';
import { cors } from './cors.ts';
import type { BackendStage, DataplaneFilter, FilterCompileContext, RuleStage } from './filter.ts';
import { requestHeaderModifier, responseHeaderModifier } from './header-modifiers.ts';
import { requestRedirect } from './redirect.ts';
import { requestMirror } from './request-mirror.ts';
import { urlRewrite } from './url-rewrite.ts';

export type { BackendStage, FilterReply, FilterRequest, ForwardedRequest, RuleStage } from './filter.ts';

export const DATAPLANE_FILTERS: readonly DataplaneFilter[] = [urlRewrite, requestHeaderModifier, responseHeaderModifier, cors, requestRedirect, requestMirror];

type Defined<T> = Exclude<T, undefined>;

export interface RuleStages {
  /** May answer the request before a backend is chosen, in order. */
  readonly answers: readonly Defined<RuleStage['answer']>[];
  /** Send copies of a forwarded request. */
  readonly copies: readonly Defined<RuleStage['copy']>[];
}

export interface BackendStages {
  readonly upstreamPath: readonly Defined<BackendStage['upstreamPath']>[];
  readonly requestHeaders: readonly Defined<BackendStage['requestHeaders']>[];
  readonly responseHeaders: readonly Defined<BackendStage['responseHeaders']>[];
}

/** The `key` hooks of the stages that have one, in registry order. */
function hooks<S extends object, K extends keyof S>(stages: readonly (S | undefined)[], key: K): Defined<S[K]>[] {
  const out: Defined<S[K]>[] = [];
  for (const stage of stages) {
    const hook = stage?.[key];
    if (hook !== undefined) out.push(hook as Defined<S[K]>);
  }
  return out;
}

export function compileRuleStages(action: RuleAction, context: FilterCompileContext): RuleStages {
  const stages = DATAPLANE_FILTERS.map((filter) => filter.rule?.(action, context));
  return { answers: hooks(stages, 'answer'), copies: hooks(stages, 'copy') };
}

export function compileBackendStages(action: RuleAction, backend: WeightedBackend): BackendStages {
  const stages = DATAPLANE_FILTERS.map((filter) => filter.backend?.(action, backend));
  return { upstreamPath: hooks(stages, 'upstreamPath'), requestHeaders: hooks(stages, 'requestHeaders'), responseHeaders: hooks(stages, 'responseHeaders') };
}

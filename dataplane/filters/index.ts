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

export function compileRuleStages(action: RuleAction, context: FilterCompileContext): RuleStages {
  const answers: Defined<RuleStage['answer']>[] = [];
  const copies: Defined<RuleStage['copy']>[] = [];
  for (const filter of DATAPLANE_FILTERS) {
    const stage = filter.rule?.(action, context);
    if (stage?.answer !== undefined) answers.push(stage.answer);
    if (stage?.copy !== undefined) copies.push(stage.copy);
  }
  return { answers, copies };
}

export function compileBackendStages(action: RuleAction, backend: WeightedBackend): BackendStages {
  const upstreamPath: Defined<BackendStage['upstreamPath']>[] = [];
  const requestHeaders: Defined<BackendStage['requestHeaders']>[] = [];
  const responseHeaders: Defined<BackendStage['responseHeaders']>[] = [];
  for (const filter of DATAPLANE_FILTERS) {
    const stage = filter.backend?.(action, backend);
    if (stage?.upstreamPath !== undefined) upstreamPath.push(stage.upstreamPath);
    if (stage?.requestHeaders !== undefined) requestHeaders.push(stage.requestHeaders);
    if (stage?.responseHeaders !== undefined) responseHeaders.push(stage.responseHeaders);
  }
  return { upstreamPath, requestHeaders, responseHeaders };
}

/** URLRewrite: a backendRef's own rewrite, else the rule's, field by field. */
import type { DataplaneFilter } from './filter.ts';
import type { HeaderMap } from './headers.ts';
import { modifyPath } from './paths.ts';

export const urlRewrite: DataplaneFilter = {
  type: 'URLRewrite',
  backend(action, backend) {
    const host = backend.urlRewrite?.hostname ?? action.urlRewrite?.hostname;
    const path = backend.urlRewrite?.path ?? action.urlRewrite?.path;
    if (host === undefined && path === undefined) return undefined;
    return {
      ...(path === undefined ? {} : { upstreamPath: (current: string, prefix: string | undefined) => modifyPath(current, path, prefix) }),
      ...(host === undefined ? {} : { requestHeaders: (headers: HeaderMap) => { headers.host = host; } }),
    };
  },
};

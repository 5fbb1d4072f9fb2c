/** CORS: the dataplane answers preflights and adds the allow/expose headers to responses. */
import { int } from '../read.ts';
import { unsupported, type RouteFilterDefinition } from './filter.ts';

export const cors: RouteFilterDefinition = {
  type: 'CORS',
  places: ['HTTPRoute rule'],
  features: ['HTTPRouteCORS'],
  translate(filter) {
    const raw = filter.cors;
    if (raw === undefined) return unsupported('CORS filter without its configuration');
    const maxAge = raw.maxAge === undefined ? 5 : int(raw.maxAge);
    if (maxAge === undefined || maxAge < 0) return unsupported('CORS maxAge must be a non-negative integer');
    return {
      cors: {
        allowOrigins: [...(raw.allowOrigins ?? [])],
        allowMethods: [...(raw.allowMethods ?? [])],
        allowHeaders: (raw.allowHeaders ?? []).map((header) => header.toLowerCase()),
        exposeHeaders: (raw.exposeHeaders ?? []).map((header) => header.toLowerCase()),
        allowCredentials: raw.allowCredentials ?? false,
        maxAgeSeconds: maxAge,
      },
    };
  },
};

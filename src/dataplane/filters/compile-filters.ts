// IR filter list → one FilterChain (request, backend request, response headers), in FILTER_ORDER.
// No filters → the shared EMPTY_CHAIN, so a plain route allocates nothing and loops over nothing.
import type { IrFilter } from '../../ir/types.js';
import { assertNever } from '../../core/assert-never.js';
import { compileHeaderModifier } from './header-modifier.js';
import { compileUrlRewrite } from './url-rewrite.js';
import { compileCors } from './cors.js';
import { compileFault } from './fault.js';
import { inFilterOrder } from './filter-order.js';
import { compileApiLifecycle } from './api-lifecycle.js';
import { compileAuthn } from './auth/compile-authn.js';
import { compileAuthz } from './authz.js';
import { compileRateLimits } from './rate-limit.js';
import { compileQuotas } from './quota.js';
import { compileOpenApiValidation } from './openapi-validate.js';
import { compileTransform } from './transform/compile-transform.js';
import { compileExtAuth } from './ext-auth.js';
import type { FilterDeps } from './filter-deps.js';
import { EMPTY_CHAIN, type BackendRequestFilter, type BodyFilter, type FilterChain, type RequestBodyFilter, type RequestPhaseFilter, type ResponseHeadersFilter } from './filter-types.js';

export type { FilterChain } from './filter-types.js';

export function compileFilterChain(filters: readonly IrFilter[] | undefined, deps: FilterDeps): FilterChain {
  if (filters === undefined || filters.length === 0) return EMPTY_CHAIN;
  const request: RequestPhaseFilter[] = [];
  const backendRequest: BackendRequestFilter[] = [];
  const responseHeaders: ResponseHeadersFilter[] = [];
  const bodyChecks: RequestBodyFilter[] = [];
  let maxBodyBytes = Infinity;
  let requestBody: BodyFilter | undefined;
  let responseBody: BodyFilter | undefined;
  // Counters key anonymous requests by the client behind trusted proxies, as authz matches them.
  const counters = deps.isTrustedProxy === undefined ? deps.counters : { ...deps.counters, isTrustedProxy: deps.isTrustedProxy };
  for (const f of inFilterOrder(filters)) {
    switch (f.kind) {
      case 'request-header-modifier': {
        const modify = compileHeaderModifier(f.modifier);
        backendRequest.push((_ctx, draft) => modify(draft.headers));
        break;
      }
      case 'url-rewrite':
        backendRequest.push(compileUrlRewrite(f.hostname, f.path));
        break;
      case 'response-header-modifier': {
        const modify = compileHeaderModifier(f.modifier);
        responseHeaders.push((_ctx, _status, headers) => modify(headers));
        break;
      }
      case 'fault':
        request.push(compileFault(f.fault, deps.random));
        break;
      case 'cors': {
        const cors = compileCors(f.cors);
        request.push(...cors.request);
        responseHeaders.push(...cors.responseHeaders);
        break;
      }
      case 'api-lifecycle': {
        const lifecycle = compileApiLifecycle(f.lifecycle);
        request.push(...lifecycle.request);
        responseHeaders.push(...lifecycle.responseHeaders);
        break;
      }
      case 'authn': {
        const authn = compileAuthn(f.authn, deps);
        request.push(authn.request);
        backendRequest.push(authn.backendRequest);
        break;
      }
      case 'authz':
        request.push(compileAuthz(f.authz, deps));
        break;
      case 'rate-limit': {
        const limits = compileRateLimits(f.rateLimits, counters);
        request.push(limits.request);
        responseHeaders.push(limits.responseHeaders);
        break;
      }
      case 'quota': {
        const quotas = compileQuotas(f.quotas, counters);
        request.push(quotas.request);
        responseHeaders.push(quotas.responseHeaders);
        break;
      }
      case 'openapi-validate': {
        const validation = compileOpenApiValidation(f.validation);
        request.push(validation.request);
        bodyChecks.push(validation.requestBody);
        maxBodyBytes = Math.min(maxBodyBytes, f.validation.maxBodyBytes);
        break;
      }
      case 'transform': {
        const t = compileTransform(f.transform, { isTrustedProxy: deps.isTrustedProxy, log: deps.log ?? logToStderr });
        if (t.backendRequest !== undefined) backendRequest.push(t.backendRequest);
        if (t.responseHeaders !== undefined) responseHeaders.push(t.responseHeaders);
        // One transform per route (precedence decides at translate time); a second body edit would need the first's output.
        requestBody ??= t.requestBody;
        responseBody ??= t.responseBody;
        break;
      }
      case 'ext-auth': {
        const extAuth = compileExtAuth(f.extAuth, { ...deps.extAuth, isTrustedProxy: deps.isTrustedProxy });
        request.push(extAuth.request);
        backendRequest.push(extAuth.backendRequest);
        break;
      }
      default:
        assertNever(f, 'filter');
    }
  }
  if (bodyChecks.length === 0 && requestBody === undefined && responseBody === undefined) return { request, backendRequest, responseHeaders };
  return {
    request,
    backendRequest,
    responseHeaders,
    ...(bodyChecks.length > 0 ? { requestBodyCheck: { maxBytes: maxBodyBytes, filters: bodyChecks } } : {}),
    ...(requestBody !== undefined ? { requestBody } : {}),
    ...(responseBody !== undefined ? { responseBody } : {}),
  };
}

function logToStderr(line: string): void {
  process.stderr.write(`${line}\n`);
}

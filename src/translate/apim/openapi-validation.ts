// An API version's OpenAPI document on the routes of that version: the generated HTTPRoute joins
// the version's targets, and, with `validate.requests`, each route of the version gets an
// `openapi-validate` filter holding the operations it may serve: exactly one on a generated
// route (rule i was made from operation i), every operation of the document on a route the
// version names itself (the filter finds the one matching the request). Pure.
import type { Diagnostic } from '../../core/diagnostic.js';
import type { IrFilter, IrRoute } from '../../ir/types.js';
import { refOf, type Api } from '../../resources/resource.js';
import type { ApiVersion, PolicyTargetRef } from '../../resources/apim-kinds.js';
import { apiName } from './api-lifecycle.js';
import { DEFAULT_OPENAPI_MAX_BODY_BYTES, openApiVersionKey, type OpenApiVersion } from './openapi-routes.js';

const GATEWAY_GROUP = 'gateway.networking.k8s.io';

/** The generated HTTPRoute as one more target of the version; a version with no routes at all is reported. */
export function openApiTargets(api: Api, version: ApiVersion, v: number, openApi: ReadonlyMap<string, OpenApiVersion> | undefined, diagnostics: Diagnostic[]): PolicyTargetRef[] {
  const resolved = openApi?.get(openApiVersionKey(api, version.name));
  if (resolved?.generatedRoute !== undefined) return [{ group: GATEWAY_GROUP, kind: 'HTTPRoute', name: resolved.generatedRoute }];
  // The CRD cannot say "routes, or openapi.generateRoutes" (a CEL rule would); the translator does.
  if ((version.routes ?? []).length === 0 && version.openapi?.generateRoutes === undefined) {
    diagnostics.push({ severity: 'warning', code: 'ERR_POLICY_INVALID', object: refOf(api), source: api.source, path: `spec.versions[${v}]`, message: 'a version needs routes, or openapi.generateRoutes to make them; it serves nothing' });
  }
  return [];
}

export type OpenApiRouteTreatment = { readonly kind: 'filter'; readonly filter: IrFilter } | { readonly kind: 'unusable' };

/** What validation a route of version `v` gets: none, a filter, or `unusable` (asked for, but the document failed). */
export function openApiFilter(api: Api, v: number, route: IrRoute, openApi: ReadonlyMap<string, OpenApiVersion> | undefined): OpenApiRouteTreatment | undefined {
  const version = api.spec.versions[v];
  if (version?.openapi?.validate?.requests !== true) return undefined;
  const resolved = openApi?.get(openApiVersionKey(api, version.name));
  if (resolved?.model === undefined) return { kind: 'unusable' };
  let operations = resolved.operations;
  if (resolved.generatedRoute !== undefined && isGeneratedRoute(route, api, resolved.generatedRoute)) {
    const rule = /\/rule\/(\d+)\//.exec(route.name.slice(route.name.indexOf(`/${resolved.generatedRoute}/`)));
    const op = rule === null ? undefined : operations[Number(rule[1])];
    if (op !== undefined) operations = [op];
  }
  return {
    kind: 'filter',
    filter: {
      kind: 'openapi-validate',
      validation: {
        api: `${apiName(api)}/${version.name}`,
        operations,
        schemas: resolved.model.schemas,
        maxBodyBytes: version.openapi.validate.maxBodyBytes ?? DEFAULT_OPENAPI_MAX_BODY_BYTES,
      },
    },
  };
}

function isGeneratedRoute(route: IrRoute, api: Api, name: string): boolean {
  const o = route.origin;
  return o.kind === 'HTTPRoute' && o.group === GATEWAY_GROUP && o.name === name && (o.namespace ?? 'default') === (api.metadata.namespace ?? 'default');
}

// API versions with an `openapi` document → the parsed document per version, and, for versions
// with `generateRoutes`, one synthetic HTTPRoute each: `<api>-<version>-openapi` in the API's
// namespace, one rule per operation (its path template and method).
//
// Why synthetic HTTPRoutes rather than IR routes made here: they go through the Gateway API
// translator like any route the user wrote (parentRefs and listener attachment, hostnames,
// backend resolution and ReferenceGrants, precedence among the Gateway's other routes, status
// conditions computed — though not written back, as the object does not exist), so there is one
// route path to get right, not two. And being ordinary HTTPRoutes, they are targets like any
// other: the version's lifecycle, AuthPolicies and RateLimitPolicies attach to them by name. Pure.
import type { Diagnostic } from '../../core/diagnostic.js';
import type { IrOpenApiOperation } from '../../ir/apim.js';
import { refOf, type Api, type HttpRoute, type Resource } from '../../resources/resource.js';
import type { ConfigMap } from '../../resources/config-map.js';
import type { ApiOpenApi } from '../../resources/apim-kinds.js';
import { openApiFileKey, type OpenApiFileRead } from '../../store/resource-snapshot.js';
import { parseOpenApiDocument, type OpenApiModel } from './openapi-document.js';

export const DEFAULT_OPENAPI_KEY = 'openapi.yaml';
/** Request bodies are read whole for validation up to this size (the default of `validate.maxBodyBytes`). */
export const DEFAULT_OPENAPI_MAX_BODY_BYTES = 1024 * 1024;

/** One API version's document, ready for the API management translator. */
export interface OpenApiVersion {
  readonly openapi: ApiOpenApi;
  /** Absent when the document could not be used (an error diagnostic says why). */
  readonly model?: OpenApiModel;
  /** The operations with full path templates (prefix included), in `model.operations` order. */
  readonly operations: readonly IrOpenApiOperation[];
  /** The generated HTTPRoute's name, when routes are generated. */
  readonly generatedRoute?: string;
}

export interface OpenApiResolution {
  /** Keyed `namespace/api/version`. */
  readonly versions: ReadonlyMap<string, OpenApiVersion>;
  readonly routes: readonly HttpRoute[];
}

export function openApiVersionKey(api: Api, versionName: string): string {
  return `${api.metadata.namespace ?? 'default'}/${api.metadata.name}/${versionName}`;
}

export function generatedRouteName(api: Api, versionName: string): string {
  return `${api.metadata.name}-${versionName}-openapi`;
}

/** The document's text, or the error (field path and message) that says why there is none. */
type DocumentText = { readonly kind: 'text'; readonly text: string; readonly what: string; readonly at: string } | { readonly kind: 'missing'; readonly at: string; readonly message: string };

const NOT_SERVED = "this version's OpenAPI routes and validation are not served";

/**
 * Finds the version's document: a ConfigMap key, or a file the file source read
 * (`openApiFiles` absent: a source without files, i.e. Kubernetes).
 */
function documentText(api: Api, openapi: ApiOpenApi, path: string, configMaps: ReadonlyMap<string, ConfigMap>, openApiFiles: ReadonlyMap<string, OpenApiFileRead> | undefined): DocumentText {
  const namespace = api.metadata.namespace ?? 'default';
  if ((openapi.configMapRef === undefined) === (openapi.file === undefined)) {
    return { kind: 'missing', at: path, message: `exactly one of configMapRef and file is needed (found ${openapi.file === undefined ? 'neither' : 'both'}); ${NOT_SERVED}` };
  }
  if (openapi.file !== undefined) {
    const at = `${path}.file`;
    if (openApiFiles === undefined) return { kind: 'missing', at, message: `file is read only in standalone mode (isthmus run --config, isthmus validate); here put the document in a ConfigMap and use configMapRef; ${NOT_SERVED}` };
    const read = openApiFiles.get(openApiFileKey(api.source, openapi.file));
    if (read === undefined) return { kind: 'missing', at, message: `"${openapi.file}" was not read by the source; ${NOT_SERVED}` };
    if (read.kind === 'refused') return { kind: 'missing', at, message: `${read.message}; ${NOT_SERVED}` };
    return { kind: 'text', text: read.text, what: `file "${openapi.file}"`, at };
  }
  const ref = openapi.configMapRef!;
  const key = ref.key ?? DEFAULT_OPENAPI_KEY;
  const cm = configMaps.get(`${namespace}/${ref.name}`);
  if (cm === undefined) return { kind: 'missing', at: `${path}.configMapRef`, message: `ConfigMap ${namespace}/${ref.name} does not exist; ${NOT_SERVED}` };
  const text = cm.data[key];
  if (text === undefined) return { kind: 'missing', at: `${path}.configMapRef.key`, message: `ConfigMap ${namespace}/${ref.name} has no key "${key}" (keys: ${Object.keys(cm.data).join(', ') || 'none'}); ${NOT_SERVED}` };
  return { kind: 'text', text, what: `ConfigMap ${namespace}/${ref.name} key "${key}"`, at: `${path}.configMapRef` };
}

export function resolveOpenApi(resources: readonly Resource[], diagnostics: Diagnostic[], openApiFiles?: ReadonlyMap<string, OpenApiFileRead>): OpenApiResolution {
  const apis = resources.filter((r): r is Api => r.kind === 'API' && 'spec' in r && Array.isArray((r as Api).spec.versions));
  if (!apis.some((a) => a.spec.versions.some((v) => v.openapi !== undefined))) return { versions: new Map(), routes: [] };
  const configMaps = new Map<string, ConfigMap>();
  const httpRouteNames = new Set<string>();
  for (const r of resources) {
    if (r.kind === 'ConfigMap') configMaps.set(`${r.metadata.namespace ?? 'default'}/${r.metadata.name}`, r as ConfigMap);
    if (r.kind === 'HTTPRoute') httpRouteNames.add(`${r.metadata.namespace ?? 'default'}/${r.metadata.name}`);
  }
  const versions = new Map<string, OpenApiVersion>();
  const routes: HttpRoute[] = [];
  for (const api of apis) {
    const namespace = api.metadata.namespace ?? 'default';
    api.spec.versions.forEach((version, v) => {
      const openapi = version.openapi;
      const path = `spec.versions[${v}].openapi`;
      if (openapi === undefined) return;
      const report = (severity: 'error' | 'warning', at: string, message: string): void => {
        diagnostics.push({ severity, code: 'ERR_OPENAPI_INVALID', object: refOf(api), source: api.source, path: at, message });
      };
      const doc = documentText(api, openapi, path, configMaps, openApiFiles);
      let model: OpenApiModel | undefined;
      if (doc.kind === 'missing') report('error', doc.at, doc.message);
      else {
        const parsed = parseOpenApiDocument(doc.text);
        if (parsed.kind === 'invalid') report('error', doc.at, `${doc.what}: ${parsed.message}; ${NOT_SERVED}`);
        else {
          model = parsed.model;
          for (const p of parsed.problems) report('warning', path, `${doc.what}: ${p}`);
        }
      }
      const prefix = (openapi.pathPrefix ?? model?.serverPath ?? '').replace(/\/+$/, '');
      const operations = (model?.operations ?? []).map((op): IrOpenApiOperation => ({
        id: op.id,
        method: op.method,
        segments: templateSegments(prefix + op.path),
        parameters: op.parameters,
        ...(op.body !== undefined ? { body: op.body } : {}),
      }));
      let generatedRoute: string | undefined;
      const gen = openapi.generateRoutes;
      if (gen !== undefined && model !== undefined) {
        const name = generatedRouteName(api, version.name);
        if (httpRouteNames.has(`${namespace}/${name}`)) report('error', `${path}.generateRoutes`, `an HTTPRoute ${namespace}/${name} already exists; routes are not generated over it (rename the HTTPRoute or the version)`);
        else if (operations.length === 0) report('warning', `${path}.generateRoutes`, 'the document has no operations; no routes generated');
        else {
          generatedRoute = name;
          routes.push(generatedHttpRoute(api, v, name, gen, operations));
        }
      }
      versions.set(openApiVersionKey(api, version.name), { openapi, ...(model !== undefined ? { model } : {}), operations, ...(generatedRoute !== undefined ? { generatedRoute } : {}) });
    });
  }
  return { versions, routes };
}

/** `/orders/{id}.json` → [['orders'], [{param: 'id'}, '.json']]. */
export function templateSegments(path: string): IrOpenApiOperation['segments'] {
  return path
    .split('/')
    .slice(1)
    .map((segment) => {
      const parts: (string | { param: string })[] = [];
      let rest = segment;
      for (let open = rest.indexOf('{'); open >= 0; open = rest.indexOf('{')) {
        const close = rest.indexOf('}', open);
        if (close < 0) break;
        if (open > 0) parts.push(rest.slice(0, open));
        parts.push({ param: rest.slice(open + 1, close) });
        rest = rest.slice(close + 1);
      }
      if (rest !== '' || parts.length === 0) parts.push(rest);
      return parts;
    });
}

/** RE2 metacharacters, escaped so a literal part of a path matches only itself. */
function escapeRe2(text: string): string {
  return text.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
}

/** The route match of a template: Exact without parameters, else a RE2 pattern (one segment per parameter). */
function pathMatchOf(segments: IrOpenApiOperation['segments']): { type: 'Exact' | 'RegularExpression'; value: string } {
  const literal = segments.every((s) => s.every((p) => typeof p === 'string'));
  if (literal) return { type: 'Exact', value: '/' + segments.map((s) => s.join('')).join('/') };
  // `[^/]+`: a path parameter is one non-empty segment (OAS 3.x: the value cannot hold a `/`).
  return { type: 'RegularExpression', value: '/' + segments.map((s) => s.map((p) => (typeof p === 'string' ? escapeRe2(p) : '[^/]+')).join('')).join('/') };
}

function generatedHttpRoute(api: Api, v: number, name: string, gen: NonNullable<ApiOpenApi['generateRoutes']>, operations: readonly IrOpenApiOperation[]): HttpRoute {
  const backendRef = { name: gen.backendRef.name, port: gen.backendRef.port, ...(gen.backendRef.namespace !== undefined ? { namespace: gen.backendRef.namespace } : {}) };
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: {
      name,
      namespace: api.metadata.namespace ?? 'default',
      labels: {},
      annotations: { 'isthmus.dev/generated-from': `API ${api.metadata.namespace ?? 'default'}/${api.metadata.name} spec.versions[${v}].openapi` },
      // The API's age, so precedence against other routes is the API's.
      ...(api.metadata.creationTimestamp !== undefined ? { creationTimestamp: api.metadata.creationTimestamp } : {}),
    },
    spec: {
      parentRefs: gen.parentRefs.map((p) => ({ ...p })),
      ...(gen.hostnames !== undefined ? { hostnames: [...gen.hostnames] } : {}),
      // Rule i serves operation i: the API management translator reads the index back from the IR route name.
      rules: operations.map((op) => ({
        matches: [{ path: pathMatchOf(op.segments), method: op.method as 'GET' }],
        backendRefs: [backendRef],
      })),
    },
    source: `${api.source} (spec.versions[${v}].openapi.generateRoutes)`,
  } as HttpRoute;
}

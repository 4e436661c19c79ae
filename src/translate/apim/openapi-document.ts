// An OpenAPI 3.0 / 3.1 document (the text of a ConfigMap key) → the operations the gateway routes
// and validates: method, path template, parameters (path-level merged into each operation, local
// `$ref`s to components.parameters followed), the request body's media types and schemas, and
// components.schemas, all converted to JSON Schema 2020-12 (openapi-schema.ts). Pure.
//
// Two kinds of failure: the document as a whole (not YAML/JSON, not OpenAPI 3.x, no `paths`) is
// `invalid`; a broken part (a `$ref` that names nothing, a schema Ajv refuses, a parameter without
// a name) is a `problem` and only that part is left out (the operation keeps its other checks).
import { load, CORE_SCHEMA } from 'js-yaml';
import { compileOpenApiSchema, createOpenApiAjv, OPENAPI_COMPONENTS_ID } from '../../core/openapi-ajv.js';
import type { IrJsonSchema, IrOpenApiBody, IrOpenApiParameter } from '../../ir/apim.js';
import { convertSchema, withoutReadOnlyRequired, type OpenApiDialect } from './openapi-schema.js';

export interface OpenApiOperationModel {
  /** `operationId`, else `GET /orders/{id}`. */
  readonly id: string;
  readonly method: string;
  /** As written in `paths`, e.g. `/orders/{id}`. */
  readonly path: string;
  readonly parameters: readonly IrOpenApiParameter[];
  readonly body?: IrOpenApiBody;
}

export interface OpenApiModel {
  readonly dialect: OpenApiDialect;
  readonly title: string;
  /** `info.version`, as written ('' when absent). */
  readonly infoVersion: string;
  /** The path of `servers[0].url` (variables at their defaults), without a trailing `/`; '' when none. */
  readonly serverPath: string;
  readonly operations: readonly OpenApiOperationModel[];
  readonly schemas: { readonly [name: string]: IrJsonSchema };
}

export type OpenApiParse =
  | { readonly kind: 'ok'; readonly model: OpenApiModel; readonly problems: readonly string[] }
  | { readonly kind: 'invalid'; readonly message: string };

type Json = { [key: string]: unknown };

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** OAS 3.x Path Item fields that are operations, in the order routes are generated. */
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** Parses the text (JSON or YAML) and checks that it is an OpenAPI 3.0 or 3.1 document. */
export function decodeOpenApiText(text: string): { readonly kind: 'ok'; readonly doc: Json; readonly dialect: OpenApiDialect } | { readonly kind: 'invalid'; readonly message: string } {
  let doc: unknown;
  try {
    // CORE_SCHEMA: no YAML timestamps or other types JSON has no word for (a date stays a string).
    doc = load(text, { schema: CORE_SCHEMA, json: true });
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
    return { kind: 'invalid', message: `not valid YAML or JSON: ${message}` };
  }
  if (!isRecord(doc)) return { kind: 'invalid', message: 'expected an OpenAPI document (a mapping with `openapi`, `info` and `paths`)' };
  const version = doc.openapi;
  if (typeof version !== 'string') {
    if (typeof doc.swagger === 'string') return { kind: 'invalid', message: `Swagger ${doc.swagger} (OpenAPI 2.0) is not supported; convert it to OpenAPI 3 first` };
    return { kind: 'invalid', message: 'no `openapi` version field: not an OpenAPI 3 document' };
  }
  const dialect = /^3\.0\.\d+$/.test(version) ? '3.0' : /^3\.1\.\d+$/.test(version) ? '3.1' : undefined;
  if (dialect === undefined) return { kind: 'invalid', message: `openapi "${version}" is not supported (3.0.x and 3.1.x are)` };
  if (!isRecord(doc.paths)) return { kind: 'invalid', message: '`paths` is missing or not a mapping' };
  return { kind: 'ok', doc, dialect };
}

export function parseOpenApiDocument(text: string): OpenApiParse {
  const decoded = decodeOpenApiText(text);
  if (decoded.kind === 'invalid') return decoded;
  const { doc, dialect } = decoded;
  const problems: string[] = [];
  const components = isRecord(doc.components) ? doc.components : {};

  // components.schemas first: every operation schema refers into them.
  const schemas: { [name: string]: IrJsonSchema } = {};
  for (const [name, s] of Object.entries(isRecord(components.schemas) ? components.schemas : {})) {
    const c = convertSchema(s, dialect, `components.schemas.${name}`);
    problems.push(...c.problems);
    schemas[name] = c.schema;
  }
  // A component Ajv cannot compile (a keyword misspelt, a $ref that names nothing) is replaced by
  // `true`, checked as nothing, so one bad schema does not take its whole document with it.
  const plain = createOpenApiAjv({}, false);
  for (const [name, s] of Object.entries(schemas)) {
    if (plain.validateSchema(s as boolean | Record<string, unknown>) !== true) {
      problems.push(`components.schemas.${name}: not a valid JSON Schema (${plain.errorsText(plain.errors)}); not checked`);
      schemas[name] = true;
    }
  }
  const withComponents = createOpenApiAjv(schemas, false);
  for (const name of Object.keys(schemas)) {
    const compiled = compileOpenApiSchema(withComponents, { $ref: `${OPENAPI_COMPONENTS_ID}#/$defs/${escapePointer(name)}` });
    if (compiled.kind === 'invalid') {
      problems.push(`components.schemas.${name}: ${compiled.message}; not checked`);
      schemas[name] = true;
    }
  }
  const checker = createOpenApiAjv(schemas, false);
  const schemaAt = (s: unknown, where: string): IrJsonSchema | undefined => {
    if (s === undefined) return undefined;
    const c = convertSchema(s, dialect, where);
    problems.push(...c.problems);
    if (checker.validateSchema(c.schema as boolean | Record<string, unknown>) !== true) {
      problems.push(`${where}: not a valid JSON Schema (${checker.errorsText(checker.errors)}); not checked`);
      return undefined;
    }
    const compiled = compileOpenApiSchema(checker, c.schema);
    if (compiled.kind === 'invalid') {
      problems.push(`${where}: ${compiled.message}; not checked`);
      return undefined;
    }
    return c.schema;
  };

  // Parameters, request bodies and path items may be `$ref`s into components (OAS 3.x Reference Object).
  const deref = (value: unknown, where: string): Json | undefined => {
    let v = value;
    for (let hops = 0; isRecord(v) && typeof v.$ref === 'string'; hops++) {
      const ref = v.$ref;
      const target = hops < 8 && ref.startsWith('#/') ? pointer(doc, ref) : undefined;
      if (target === undefined) {
        problems.push(`${where}.$ref: ${JSON.stringify(ref)} ${ref.startsWith('#/') ? 'names nothing in this document' : 'is not a local reference (only #/... is followed)'}; left out`);
        return undefined;
      }
      v = target;
    }
    return isRecord(v) ? v : undefined;
  };

  const parameterOf = (raw: unknown, where: string): IrOpenApiParameter | undefined => {
    const p = deref(raw, where);
    if (p === undefined) return undefined;
    if (typeof p.name !== 'string' || p.name === '') {
      problems.push(`${where}: a parameter needs a name; left out`);
      return undefined;
    }
    if (p.in === 'cookie') return undefined; // not validated (documented)
    if (p.in !== 'path' && p.in !== 'query' && p.in !== 'header') {
      problems.push(`${where}.in: expected path, query, header or cookie, found ${JSON.stringify(p.in)}; left out`);
      return undefined;
    }
    // A parameter described by `content` instead of `schema` is checked for presence only.
    const schema = schemaAt(p.schema, `${where}.schema`);
    return {
      in: p.in,
      name: p.in === 'header' ? p.name.toLowerCase() : p.name,
      // OAS 3.x: path parameters are always required.
      required: p.in === 'path' || p.required === true,
      ...(schema !== undefined ? { schema } : {}),
    };
  };

  const operations: OpenApiOperationModel[] = [];
  for (const [path, rawItem] of Object.entries(doc.paths as Json)) {
    const at = `paths.${path}`;
    if (!path.startsWith('/')) {
      problems.push(`${at}: a path must start with "/"; left out`);
      continue;
    }
    const item = deref(rawItem, at);
    if (item === undefined) continue;
    const shared = Array.isArray(item.parameters) ? item.parameters.map((p, i) => parameterOf(p, `${at}.parameters[${i}]`)) : [];
    for (const method of METHODS) {
      const op = item[method];
      if (!isRecord(op)) continue;
      const opAt = `${at}.${method}`;
      const own = Array.isArray(op.parameters) ? op.parameters.map((p, i) => parameterOf(p, `${opAt}.parameters[${i}]`)) : [];
      // OAS 3.x: an operation's parameter overrides a path-level one with the same name and location.
      const byKey = new Map<string, IrOpenApiParameter>();
      for (const p of [...shared, ...own]) if (p !== undefined) byKey.set(`${p.in} ${p.name}`, p);
      const parameters = [...byKey.values()];
      const body = op.requestBody === undefined ? undefined : bodyOf(op.requestBody, `${opAt}.requestBody`);
      operations.push({
        id: typeof op.operationId === 'string' && op.operationId !== '' ? op.operationId : `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        parameters,
        ...(body !== undefined ? { body } : {}),
      });
    }
  }

  function bodyOf(raw: unknown, where: string): IrOpenApiBody | undefined {
    const b = deref(raw, where);
    if (b === undefined) return undefined;
    const content = isRecord(b.content) ? b.content : {};
    const mediaTypes: { type: string; schema?: IrJsonSchema }[] = [];
    for (const [type, media] of Object.entries(content)) {
      const lower = type.toLowerCase();
      const schema = isJsonMediaType(lower) && isRecord(media) ? schemaAt(media.schema, `${where}.content.${type}.schema`) : undefined;
      mediaTypes.push({ type: lower, ...(schema !== undefined ? { schema: withoutReadOnlyRequired(schema) } : {}) });
    }
    return { required: b.required === true, mediaTypes };
  }

  return {
    kind: 'ok',
    model: {
      dialect,
      title: isRecord(doc.info) && typeof doc.info.title === 'string' ? doc.info.title : '',
      infoVersion: isRecord(doc.info) && (typeof doc.info.version === 'string' || typeof doc.info.version === 'number') ? String(doc.info.version) : '',
      serverPath: serverPathOf(doc.servers),
      operations,
      schemas,
    },
    problems,
  };
}

/** `application/json`, `application/problem+json`, `application/json; charset=utf-8`. */
export function isJsonMediaType(type: string): boolean {
  const essence = type.split(';')[0]!.trim().toLowerCase();
  return essence === 'application/json' || (essence.startsWith('application/') && essence.endsWith('+json'));
}

function escapePointer(name: string): string {
  return name.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** RFC 6901 JSON pointer inside the document (`#/components/parameters/limit`). */
function pointer(doc: Json, ref: string): unknown {
  let at: unknown = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    if (!isRecord(at) || !Object.hasOwn(at, key)) return undefined;
    at = at[key];
  }
  return at;
}

/** OAS 3.x Server Object: `https://api.example.com/v1`, `/v1`, `{scheme}://host/{base}` with variable defaults. */
function serverPathOf(servers: unknown): string {
  if (!Array.isArray(servers) || !isRecord(servers[0]) || typeof servers[0].url !== 'string') return '';
  const server = servers[0];
  const variables = isRecord(server.variables) ? server.variables : {};
  const url = (server.url as string).replace(/\{([^}]*)\}/g, (_m, name: string) => {
    const v = variables[name];
    return isRecord(v) && typeof v.default === 'string' ? v.default : '';
  });
  let path: string;
  try {
    path = new URL(url, 'http://relative.invalid').pathname;
  } catch {
    return '';
  }
  return path.replace(/\/+$/, '');
}

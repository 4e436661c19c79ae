// The `openapi-validate` filter: a request checked against the OpenAPI operation it is for, in two
// phases. The request phase finds the operation (method and path template), then checks path,
// query and header parameters, their string values coerced to the schema's types ("10" is an
// integer); the request-body phase checks the media type and a JSON body against the schema.
// The first failure is answered 400 with the field it is about:
//
//   {"status":400,"reason":"bad_request","message":"query parameter 'limit' must be integer","field":"query.limit","request_id":"..."}
//
// Every schema is compiled with Ajv once, at apply time (core/openapi-ajv.ts); a request only runs
// compiled code. Path templates are matched segment by segment with plain string comparisons:
// linear in the path, no regular expression at all.
import type { Ajv2020 } from 'ajv/dist/2020.js';
import { compileOpenApiSchema, createOpenApiAjv, type ErrorObject, type ValidateFunction } from '../../core/openapi-ajv.js';
import type { IrJsonSchema, IrOpenApiOperation, IrOpenApiValidation } from '../../ir/apim.js';
import { CONTINUE, type FilterOutcome, type FilterResponse, type RequestBodyFilter, type RequestPhaseFilter } from './filter-types.js';
import type { RequestContext } from './request-context.js';

/** The operation a request was matched to, for the body phase and the log. */
export const OPENAPI_OPERATION_ATTRIBUTE = 'openapi.operation';

type Location = 'path' | 'query' | 'header';

interface CompiledOperation {
  readonly id: string;
  readonly method: string;
  readonly segments: IrOpenApiOperation['segments'];
  readonly params: readonly { readonly location: Location; readonly names: readonly string[]; readonly validate: Check }[];
  readonly body?: {
    readonly required: boolean;
    readonly mediaTypes: readonly { readonly type: string; readonly validate?: Check }[];
  };
}

/** A compiled schema, or a schema that could not compile (the translator reports those; this is the backstop). */
type Check = ValidateFunction | 'broken';

// The schemas object is shared by every filter of one API version in one IR (the translator hands
// the same object to each route), so the components are registered once per version, not per route.
const AJV_CACHE = new WeakMap<object, { readonly coercing: Ajv2020; readonly plain: Ajv2020 }>();

function ajvFor(schemas: IrOpenApiValidation['schemas']): { readonly coercing: Ajv2020; readonly plain: Ajv2020 } {
  let entry = AJV_CACHE.get(schemas);
  if (entry === undefined) AJV_CACHE.set(schemas, (entry = { coercing: createOpenApiAjv(schemas, true), plain: createOpenApiAjv(schemas, false) }));
  return entry;
}

function compile(ajv: Ajv2020, schema: IrJsonSchema): Check {
  const r = compileOpenApiSchema(ajv, schema);
  return r.kind === 'ok' ? r.validate : 'broken';
}

function compileOperation(op: IrOpenApiOperation, ajv: { readonly coercing: Ajv2020; readonly plain: Ajv2020 }): CompiledOperation {
  const params: { location: Location; names: string[]; validate: Check }[] = [];
  for (const location of ['path', 'query', 'header'] as const) {
    const own = op.parameters.filter((p) => p.in === location);
    if (own.length === 0) continue;
    // One object per location, so a missing required parameter and a wrong type are both one Ajv run.
    const schema = {
      type: 'object',
      properties: Object.fromEntries(own.map((p) => [p.name, p.schema ?? true])),
      required: own.filter((p) => p.required).map((p) => p.name),
    };
    params.push({ location, names: own.map((p) => p.name), validate: compile(ajv.coercing, schema) });
  }
  return {
    id: op.id,
    method: op.method,
    segments: op.segments,
    params,
    ...(op.body !== undefined
      ? { body: { required: op.body.required, mediaTypes: op.body.mediaTypes.map((m) => ({ type: m.type, ...(m.schema !== undefined ? { validate: compile(ajv.plain, m.schema) } : {}) })) } }
      : {}),
  };
}

export function compileOpenApiValidation(v: IrOpenApiValidation): { request: RequestPhaseFilter; requestBody: RequestBodyFilter } {
  const ajv = ajvFor(v.schemas);
  const operations = v.operations.map((op) => compileOperation(op, ajv));

  const request: RequestPhaseFilter = (ctx) => {
    for (const op of operations) {
      if (op.method !== ctx.method) continue;
      const pathParams = matchTemplate(op.segments, ctx.path);
      if (pathParams === undefined) continue;
      ctx.attributes.set(OPENAPI_OPERATION_ATTRIBUTE, op);
      return checkParameters(op, pathParams, ctx);
    }
    // A path the document does not describe (on a route the version names itself): not validated.
    return CONTINUE;
  };

  const requestBody: RequestBodyFilter = (ctx, body) => {
    const op = ctx.attributes.get(OPENAPI_OPERATION_ATTRIBUTE) as CompiledOperation | undefined;
    if (op === undefined || !operations.includes(op) || op.body === undefined) return CONTINUE;
    return checkBody(op.body, ctx, body);
  };
  return { request, requestBody };
}

/** Path parameters by name (percent-decoded), or undefined when the path is not this template's. */
export function matchTemplate(segments: IrOpenApiOperation['segments'], path: string): Record<string, string> | undefined {
  const actual = path.split('/');
  // A path is `/a/b`: split gives ['', 'a', 'b'].
  if (actual.length !== segments.length + 1) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    if (!matchSegment(segments[i]!, actual[i + 1]!, params)) return undefined;
  }
  return params;
}

/** Literal parts must appear in order; a parameter takes the (non-empty) text up to the next literal part. */
function matchSegment(parts: IrOpenApiOperation['segments'][number], text: string, params: Record<string, string>): boolean {
  let at = 0;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (typeof part === 'string') {
      if (!text.startsWith(part, at)) return false;
      at += part.length;
      continue;
    }
    const next = parts[i + 1];
    // The last part of the segment takes the rest; otherwise up to the next literal's first occurrence.
    const end = next === undefined ? text.length : typeof next === 'string' ? (i + 2 === parts.length ? text.length - next.length : text.indexOf(next, at + 1)) : -1;
    if (end <= at) return false;
    params[part.param] = decode(text.slice(at, end));
    at = end;
  }
  return at === text.length;
}

function decode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

const LABELS: Record<Location, string> = { path: 'path parameter', query: 'query parameter', header: 'header' };

function checkParameters(op: CompiledOperation, pathParams: Record<string, string>, ctx: RequestContext): FilterOutcome {
  let query: URLSearchParams | undefined;
  for (const p of op.params) {
    const values: Record<string, unknown> = {};
    for (const name of p.names) {
      let value: unknown;
      if (p.location === 'path') value = pathParams[name];
      else if (p.location === 'header') {
        const h = ctx.headers[name];
        value = Array.isArray(h) ? h.join(', ') : h;
      } else {
        query ??= new URLSearchParams(ctx.query);
        const all = query.getAll(name);
        // Form style, explode (the OAS default): `?tag=a&tag=b` is the array [a, b]; one value is a string, coerced as needed.
        value = all.length === 0 ? undefined : all.length === 1 ? all[0] : all;
      }
      if (value !== undefined) values[name] = value;
    }
    if (p.validate === 'broken') return badRequest(ctx, `${LABELS[p.location]}s of ${op.id} cannot be checked`, p.location, 500);
    if (!p.validate(values)) return badRequest(ctx, ...describeParamError(p.location, p.validate.errors?.[0]));
  }
  return CONTINUE;
}

function describeParamError(location: Location, e: ErrorObject | undefined): [string, string] {
  const label = LABELS[location];
  if (e === undefined) return [`${label} is not valid`, location];
  const fieldPrefix = location === 'header' ? 'header' : location;
  if (e.keyword === 'required') {
    const name = String((e.params as { missingProperty?: unknown }).missingProperty);
    return [`${label} '${name}' is required`, `${fieldPrefix}.${name}`];
  }
  const [name = '', ...rest] = e.instancePath.split('/').slice(1).map(unescapePointer);
  const inner = rest.length === 0 ? '' : ` (item ${rest.join('.')})`;
  return [`${label} '${name}'${inner} ${e.message ?? 'is not valid'}`, `${fieldPrefix}.${name}`];
}

function checkBody(body: NonNullable<CompiledOperation['body']>, ctx: RequestContext, bytes: Buffer | undefined): FilterOutcome {
  if (bytes === undefined || bytes.length === 0) return body.required ? badRequest(ctx, 'request body is required', 'body') : CONTINUE;
  const contentType = headerValue(ctx.headers['content-type']);
  const media = contentType === undefined ? undefined : matchMediaType(body.mediaTypes, contentType);
  if (media === undefined) {
    if (body.mediaTypes.length === 0) return CONTINUE;
    return badRequest(ctx, `content-type ${contentType === undefined ? 'is missing' : `'${contentType.split(';')[0]!.trim()}' is not accepted`} (expected ${body.mediaTypes.map((m) => m.type).join(', ')})`, 'header.content-type', 415);
  }
  if (media.validate === undefined) return CONTINUE;
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return badRequest(ctx, 'request body is not valid JSON', 'body');
  }
  if (media.validate === 'broken') return badRequest(ctx, 'the request body schema cannot be checked', 'body', 500);
  if (media.validate(value)) return CONTINUE;
  const e = media.validate.errors?.[0];
  if (e === undefined) return badRequest(ctx, 'request body is not valid', 'body');
  const at = e.instancePath.split('/').slice(1).map(unescapePointer);
  if (e.keyword === 'required') at.push(String((e.params as { missingProperty?: unknown }).missingProperty));
  const field = ['body', ...at].map((p, i) => (i > 0 && /^\d+$/.test(p) ? `[${p}]` : i > 0 ? `.${p}` : p)).join('');
  if (e.keyword === 'required') return badRequest(ctx, `body field '${field.slice(5)}' is required`, field);
  return badRequest(ctx, `${at.length === 0 ? 'request body' : `body field '${field.slice(5)}'`} ${e.message ?? 'is not valid'}`, field);
}

function headerValue(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h[0] : h;
}

/** The operation's media type for a Content-Type: exact essence first, then `type/*`, then `*\/*` (OAS 3.x media type ranges). */
function matchMediaType<T extends { readonly type: string }>(types: readonly T[], contentType: string): T | undefined {
  const essence = contentType.split(';')[0]!.trim().toLowerCase();
  const essenceOf = (t: string): string => t.split(';')[0]!.trim();
  return (
    types.find((t) => essenceOf(t.type) === essence) ??
    types.find((t) => essenceOf(t.type) === `${essence.split('/')[0]}/*`) ??
    types.find((t) => essenceOf(t.type) === '*/*')
  );
}

function unescapePointer(p: string): string {
  return p.replaceAll('~1', '/').replaceAll('~0', '~');
}

function badRequest(ctx: RequestContext, message: string, field: string, status = 400): FilterResponse {
  const reason = status === 415 ? 'unsupported_media_type' : status === 500 ? 'internal_error' : 'bad_request';
  return {
    kind: 'respond',
    status,
    details: reason,
    body: JSON.stringify({ status, reason, message, field, request_id: ctx.requestId }),
  };
}

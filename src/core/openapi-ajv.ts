// The one Ajv setup OpenAPI schemas are compiled with, on both sides of the IR: the translator
// compiles each schema once to refuse a broken one with a diagnostic naming its place, the data
// plane compiles the same schemas at apply time into the validators requests meet. Sharing the
// options is what makes "the translator accepted it" mean "the data plane can compile it".
// (core/ holds it, as it holds linear-regex.ts, because both sides need it and neither may import
// the other.)
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

/**
 * The `$id` under which an API version's component schemas are registered: the translator rewrites
 * every `#/components/schemas/X` of a document to `${OPENAPI_COMPONENTS_ID}#/$defs/X`, so each
 * operation's schemas compile alone against one shared copy of the components.
 */
export const OPENAPI_COMPONENTS_ID = 'https://openapi.isthmus.invalid/components';

/** A JSON Schema (2020-12) as plain JSON; the IR's JsonSchema. */
type JsonSchema = boolean | { readonly [key: string]: unknown };

export type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';

/**
 * `coerce`: parameters arrive as strings (a path segment, `?limit=10`, a header), so their schema
 * types are applied by coercion: "10" is an integer, "true" a boolean, a single value a one-item
 * array. Bodies are JSON and compiled without it: `"10"` in a body is a string.
 */
export function createOpenApiAjv(schemas: { readonly [name: string]: JsonSchema }, coerce: boolean): Ajv2020 {
  const ajv = new Ajv2020({
    // OpenAPI documents carry keywords JSON Schema does not know (`example`, `xml`, `discriminator`,
    // `x-*`): annotations, ignored rather than refused.
    strict: false,
    // The first failure names the field; collecting every error costs time on hostile input.
    allErrors: false,
    coerceTypes: coerce ? 'array' : false,
    // `format` is an annotation in 2020-12 unless a format vocabulary is asserted; no format
    // implementations are loaded (ajv-formats is not a dependency), so formats are not checked.
    validateFormats: false,
    // Compiled code must not depend on the order of keys, and `$data` references are not OpenAPI.
    $data: false,
  });
  ajv.addSchema({ $id: OPENAPI_COMPONENTS_ID, $defs: schemas as Record<string, unknown> });
  return ajv;
}

export type SchemaCompileResult = { readonly kind: 'ok'; readonly validate: ValidateFunction } | { readonly kind: 'invalid'; readonly message: string };

/** Compiles one schema; an unresolvable `$ref` or a malformed keyword is a value, never thrown. */
export function compileOpenApiSchema(ajv: Ajv2020, schema: JsonSchema): SchemaCompileResult {
  try {
    return { kind: 'ok', validate: ajv.compile(schema as boolean | Record<string, unknown>) };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { kind: 'invalid', message: message.replaceAll(OPENAPI_COMPONENTS_ID + '#/$defs/', '#/components/schemas/') };
  }
}

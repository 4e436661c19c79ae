// OpenAPI Schema Objects → JSON Schema draft 2020-12, the dialect the validator compiles.
// OpenAPI 3.1 schemas already are 2020-12 (OAS 3.1 §4.8.24); 3.0 schemas are an "extended subset"
// of draft 4/5 (OAS 3.0.3 §4.7.24) and need the few rewrites below. Both get their local
// `$ref`s rewritten so that an operation's schema compiles on its own against one shared copy of
// `components.schemas` (OPENAPI_COMPONENTS_ID in src/ir/apim.ts). Pure.
import { OPENAPI_COMPONENTS_ID } from '../../core/openapi-ajv.js';
import type { IrJsonSchema } from '../../ir/apim.js';

export type OpenApiDialect = '3.0' | '3.1';

type Json = { [key: string]: unknown };

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Keywords whose value is a schema. */
const SCHEMA_KEYWORDS = new Set(['items', 'additionalProperties', 'not', 'contains', 'propertyNames', 'if', 'then', 'else', 'unevaluatedItems', 'unevaluatedProperties', 'additionalItems']);
/** Keywords whose value is a list of schemas. */
const SCHEMA_LIST_KEYWORDS = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems']);
/** Keywords whose value maps names to schemas. */
const SCHEMA_MAP_KEYWORDS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']);

const COMPONENT_SCHEMA_REF = '#/components/schemas/';

export interface SchemaConversion {
  readonly schema: IrJsonSchema;
  /** Parts that could not be kept (a `$ref` outside components.schemas), with their place in the schema. */
  readonly problems: readonly string[];
}

/**
 * Converts one schema. `where` names it in problems (`paths./orders.post.requestBody...`).
 * A `$ref` this gateway cannot follow (another document, or a place outside components.schemas)
 * becomes `true` (accepts anything) with a problem: one unchecked part, never a refused request.
 */
export function convertSchema(schema: unknown, dialect: OpenApiDialect, where: string): SchemaConversion {
  const problems: string[] = [];
  const walk = (s: unknown, at: string): IrJsonSchema => {
    if (typeof s === 'boolean') return s;
    if (!isRecord(s)) {
      problems.push(`${at}: expected a schema object, found ${JSON.stringify(s)?.slice(0, 40)}; not checked`);
      return true;
    }
    if (typeof s.$ref === 'string') {
      const ref = s.$ref;
      if (!ref.startsWith(COMPONENT_SCHEMA_REF)) {
        problems.push(`${at}.$ref: only references into #/components/schemas are followed, found ${JSON.stringify(ref)}; not checked`);
        return true;
      }
      const rewritten = `${OPENAPI_COMPONENTS_ID}#/$defs/${ref.slice(COMPONENT_SCHEMA_REF.length)}`;
      // OAS 3.0 §4.7.26: siblings of a $ref are ignored. In 3.1 (2020-12) they apply alongside it.
      if (dialect === '3.0') return { $ref: rewritten };
      const rest = walkObject({ ...s, $ref: undefined }, at);
      return { ...rest, $ref: rewritten };
    }
    return walkObject(s, at);
  };
  const walkObject = (s: Json, at: string): Json => {
    const out: Json = {};
    for (const [k, v] of Object.entries(s)) {
      if (v === undefined) continue;
      if (SCHEMA_KEYWORDS.has(k)) out[k] = walk(v, `${at}.${k}`);
      else if (SCHEMA_LIST_KEYWORDS.has(k) && Array.isArray(v)) out[k] = v.map((x, i) => walk(x, `${at}.${k}[${i}]`));
      else if (SCHEMA_MAP_KEYWORDS.has(k) && isRecord(v)) out[k] = Object.fromEntries(Object.entries(v).map(([name, x]) => [name, walk(x, `${at}.${k}.${name}`)]));
      // Values, not schemas (`enum`, `const`, `default`, `example(s)`), and annotations: kept as written.
      else out[k] = v;
    }
    return dialect === '3.0' ? from30(out) : out;
  };
  return { schema: walk(schema, where), problems };
}

/** OAS 3.0 keywords that mean something else in 2020-12. */
function from30(s: Json): Json {
  const out: Json = { ...s };
  // OAS 3.0 `nullable: true` adds null to the allowed types (2020-12 spells it in `type`).
  if (out.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
  }
  delete out.nullable;
  // Draft 4 booleans (`exclusiveMinimum: true` next to `minimum`) → draft 6+ numbers.
  for (const [flag, bound] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']] as const) {
    if (typeof out[flag] !== 'boolean') continue;
    if (out[flag] === true && typeof out[bound] === 'number') {
      out[flag] = out[bound];
      delete out[bound];
    } else delete out[flag];
  }
  return out;
}

/**
 * OAS 3.0 §4.7.24.3 / 3.1 §4.8.24: a `readOnly` property is only sent in responses, so a request
 * need not carry it even when it is `required`. Applied to request bodies only, one level deep
 * (the common `id` of a resource), where the property schema is written inline.
 */
export function withoutReadOnlyRequired(schema: IrJsonSchema): IrJsonSchema {
  if (typeof schema === 'boolean' || !Array.isArray(schema.required) || !isRecord(schema.properties)) return schema;
  const properties = schema.properties;
  const required = (schema.required as unknown[]).filter((name) => !(typeof name === 'string' && isRecord(properties[name]) && properties[name].readOnly === true));
  return required.length === schema.required.length ? schema : { ...schema, required };
}

import { z } from 'zod';
import { objectMetaSchema } from './object-meta.js';

// Gateway API objects are checked against the upstream CRDs' own OpenAPI schemas, compiled to
// ajv validators by @kubernetes-models/gateway-api (docs/dependencies.md), rather than a hand copy
// that would drift. Metadata still goes through our zod schema (names, namespace defaulting).
// CEL rules of the CRDs (x-kubernetes-validations) are not in the OpenAPI schema; the translator
// checks the ones it depends on and reports them as conditions.

/** The shape of an error an ajv-compiled validator leaves in `validate.errors`. */
interface AjvError {
  readonly instancePath: string;
  readonly keyword: string;
  readonly message?: string;
  readonly params?: Readonly<Record<string, unknown>>;
}

export type UpstreamValidator = ((data: unknown) => boolean) & { errors?: readonly AjvError[] | null };

/** `/spec/rules/0/matches` → ['spec', 'rules', 0, 'matches'] (JSON Pointer, RFC 6901). */
function pointerToPath(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function describe(error: AjvError): string {
  const params = error.params ?? {};
  if (error.keyword === 'enum' && Array.isArray(params.allowedValues)) {
    return `expected one of ${params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  if (error.keyword === 'required' && typeof params.missingProperty === 'string') {
    return `required field "${params.missingProperty}" is missing`;
  }
  if (error.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
    return `unknown field "${params.additionalProperty}"`;
  }
  if (error.keyword === 'pattern' && typeof params.pattern === 'string') {
    return `expected a string matching ${params.pattern} (CRD schema)`;
  }
  return `expected a value that ${error.message ?? `passes "${error.keyword}"`} (CRD schema)`;
}

/**
 * A body schema: our metadata, everything else as the upstream validator accepts it. The spec is
 * narrowed to `Spec` only after the validator said yes.
 */
export function upstreamBodySchema<Spec>(validate: UpstreamValidator) {
  return z
    .object({ metadata: objectMetaSchema, spec: z.unknown() })
    .passthrough()
    .superRefine((body, ctx) => {
      if (validate(body)) return;
      for (const error of validate.errors ?? []) {
        const path = pointerToPath(error.instancePath);
        if (path[0] === 'metadata' || path[0] === 'status') continue; // ours / not read
        ctx.addIssue({ code: 'custom', path, message: describe(error) });
      }
    })
    .transform((body) => ({ metadata: body.metadata, spec: body.spec as Spec }));
}

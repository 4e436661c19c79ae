import type { z } from 'zod';
import { DEFAULT_NAMESPACE, type ObjectMeta, type objectMetaSchema } from './object-meta.js';

export type SchemaIssue = z.ZodError['issues'][number];

export type KindParseResult<R> =
  | { readonly kind: 'ok'; readonly resource: R }
  | { readonly kind: 'invalid'; readonly issues: readonly SchemaIssue[] };

/** One input kind: its apiVersion/kind, whether it is namespaced, and how to narrow `unknown` to it. */
export interface KindDefinition<R> {
  readonly apiVersion: string;
  readonly kind: string;
  /** The REST collection name (`ingresses`, `backendtlspolicies`): what Kubernetes mode lists and watches. */
  readonly plural: string;
  readonly namespaced: boolean;
  parse(raw: unknown, source: string): KindParseResult<R>;
}

type RawMeta = z.infer<typeof objectMetaSchema>;

export function defineKind<B extends { readonly metadata: RawMeta }, R>(def: {
  readonly apiVersion: string;
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: boolean;
  readonly schema: z.ZodType<B>;
  build(body: B, metadata: ObjectMeta, source: string): R;
}): KindDefinition<R> {
  return {
    apiVersion: def.apiVersion,
    kind: def.kind,
    plural: def.plural,
    namespaced: def.namespaced,
    parse(raw, source) {
      const result = def.schema.safeParse(raw);
      if (!result.success) return { kind: 'invalid', issues: result.error.issues };
      const body = result.data;
      const { namespace, ...rest } = body.metadata;
      // kubectl puts namespaced objects without a namespace into "default"; cluster-scoped objects
      // ignore a namespace (the API server does too).
      const metadata: ObjectMeta = def.namespaced ? { ...rest, namespace: namespace ?? DEFAULT_NAMESPACE } : rest;
      return { kind: 'ok', resource: def.build(body, metadata, source) };
    },
  };
}

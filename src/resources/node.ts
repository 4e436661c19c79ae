import { z } from 'zod';
import { defineKind } from './kind-definition.js';
import { objectMetaSchema, type ObjectMeta } from './object-meta.js';

// v1 Node, only what `isthmus lb` reads: the node's addresses (its node ports listen there; the
// exclude-from-external-load-balancers label is in the metadata). Kubernetes mode watches Nodes.
const nodeAddressSchema = z.object({ type: z.string().min(1), address: z.string().min(1) });

const nodeBodySchema = z.object({
  metadata: objectMetaSchema,
  status: z.object({ addresses: z.array(nodeAddressSchema).default([]) }).prefault({}),
});

export interface Node {
  readonly apiVersion: 'v1';
  readonly kind: 'Node';
  readonly metadata: ObjectMeta;
  readonly addresses: readonly { readonly type: string; readonly address: string }[];
  readonly source: string;
}

export const nodeKind = defineKind({
  apiVersion: 'v1',
  kind: 'Node',
  plural: 'nodes',
  namespaced: false,
  schema: nodeBodySchema,
  build: (body, metadata, source): Node => ({ apiVersion: 'v1', kind: 'Node', metadata, addresses: body.status.addresses, source }),
});

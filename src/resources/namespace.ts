import { z } from 'zod';
import { defineKind } from './kind-definition.js';
import { objectMetaSchema, type ObjectMeta } from './object-meta.js';

const namespaceBodySchema = z.object({ metadata: objectMetaSchema });

export interface Namespace {
  readonly apiVersion: 'v1';
  readonly kind: 'Namespace';
  readonly metadata: ObjectMeta;
  readonly source: string;
}

export const namespaceKind = defineKind({
  apiVersion: 'v1',
  kind: 'Namespace',
  plural: 'namespaces',
  namespaced: false,
  schema: namespaceBodySchema,
  build: (_body, metadata, source): Namespace => ({ apiVersion: 'v1', kind: 'Namespace', metadata, source }),
});

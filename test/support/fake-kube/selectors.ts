// Label and field selectors as kube-apiserver parses and applies them
// (k8s.io/apimachinery pkg/labels and pkg/fields). `a!=b` and `a notin (...)` also match
// objects that lack the label, as in the real selector.

import type { KubeObject } from './kube-object.js';

export type LabelRequirement =
  | { readonly kind: 'equals'; readonly key: string; readonly value: string }
  | { readonly kind: 'notEquals'; readonly key: string; readonly value: string }
  | { readonly kind: 'in'; readonly key: string; readonly values: readonly string[] }
  | { readonly kind: 'notIn'; readonly key: string; readonly values: readonly string[] }
  | { readonly kind: 'exists'; readonly key: string }
  | { readonly kind: 'notExists'; readonly key: string };

export type SupportedField = 'metadata.name' | 'metadata.namespace';

export interface FieldRequirement {
  readonly field: SupportedField;
  readonly negated: boolean;
  readonly value: string;
}

export interface ObjectFilter {
  readonly labels: readonly LabelRequirement[];
  readonly fields: readonly FieldRequirement[];
}

export type Parsed<T> = { readonly kind: 'ok'; readonly value: T } | { readonly kind: 'error'; readonly message: string };

// pkg/util/validation: a qualified name with an optional DNS-subdomain prefix, and a label value.
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const SET_REQUIREMENT = /^(\S+)\s+(in|notin)\s*\(([^()]*)\)$/;

// Commas separate requirements except inside the parentheses of `in (...)`.
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of text) {
    if (char === '(') depth += 1;
    if (char === ')') depth -= 1;
    if (char === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}

function parseRequirement(raw: string): LabelRequirement | string {
  const part = raw.trim();
  const set = SET_REQUIREMENT.exec(part);
  if (set) {
    const [, key = '', operator, list = ''] = set;
    const values = list.split(',').map((value) => value.trim());
    if (!LABEL_KEY.test(key)) return `invalid label key "${key}"`;
    const bad = values.find((value) => !LABEL_VALUE.test(value));
    if (bad !== undefined) return `invalid label value: "${bad}"`;
    return operator === 'in' ? { kind: 'in', key, values } : { kind: 'notIn', key, values };
  }
  if (part.startsWith('!')) {
    const key = part.slice(1).trim();
    return LABEL_KEY.test(key) ? { kind: 'notExists', key } : `invalid label key "${key}"`;
  }
  const match = /^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/.exec(part);
  if (match) {
    const [, key = '', operator, value = ''] = match;
    if (!LABEL_KEY.test(key)) return `invalid label key "${key}"`;
    if (!LABEL_VALUE.test(value)) return `invalid label value: "${value}"`;
    return operator === '!=' ? { kind: 'notEquals', key, value } : { kind: 'equals', key, value };
  }
  return LABEL_KEY.test(part) ? { kind: 'exists', key: part } : `found '${part}', expected: identifier`;
}

export function parseLabelSelector(text: string | null): Parsed<LabelRequirement[]> {
  if (text === null || text.trim() === '') return { kind: 'ok', value: [] };
  const requirements: LabelRequirement[] = [];
  for (const part of splitTopLevel(text)) {
    const parsed = parseRequirement(part);
    if (typeof parsed === 'string') {
      return { kind: 'error', message: `unable to parse requirement: ${parsed}` };
    }
    requirements.push(parsed);
  }
  return { kind: 'ok', value: requirements };
}

export function parseFieldSelector(text: string | null): Parsed<FieldRequirement[]> {
  if (text === null || text.trim() === '') return { kind: 'ok', value: [] };
  const requirements: FieldRequirement[] = [];
  for (const part of text.split(',')) {
    const match = /^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(part);
    if (!match) return { kind: 'error', message: `invalid selector: '${text}'; can't understand '${part}'` };
    const [, field = '', operator, value = ''] = match;
    // Only the fields every kind supports; CRDs support no others without selectableFields.
    if (field !== 'metadata.name' && field !== 'metadata.namespace') {
      return { kind: 'error', message: `field label not supported: ${field}` };
    }
    requirements.push({ field, negated: operator === '!=', value });
  }
  return { kind: 'ok', value: requirements };
}

function matchesLabel(requirement: LabelRequirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, requirement.key);
  const value = labels[requirement.key];
  switch (requirement.kind) {
    case 'equals':
      return has && value === requirement.value;
    case 'notEquals':
      return !has || value !== requirement.value;
    case 'in':
      return has && value !== undefined && requirement.values.includes(value);
    case 'notIn':
      return !has || value === undefined || !requirement.values.includes(value);
    case 'exists':
      return has;
    case 'notExists':
      return !has;
  }
}

export function matchesFilter(filter: ObjectFilter, object: KubeObject): boolean {
  const labels = object.metadata.labels ?? {};
  if (!filter.labels.every((requirement) => matchesLabel(requirement, labels))) return false;
  return filter.fields.every((requirement) => {
    const actual = requirement.field === 'metadata.name' ? object.metadata.name : object.metadata.namespace;
    return ((actual ?? '') === requirement.value) !== requirement.negated;
  });
}

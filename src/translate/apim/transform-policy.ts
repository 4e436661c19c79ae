// One TransformPolicy → IrTransform. Templates are parsed here (transform-template.ts); an edit
// whose template names an unknown variable, whose constant text could not be a header value, that
// names a header the gateway manages itself (framing, Host), or whose JSON path would reach
// `__proto__`, is left out with ERR_POLICY_INVALID and the field's path; the other edits still
// apply. The path rewrite is returned apart: a prefix replacement depends on what each route
// matched (translate-apim.ts decides it per route). Pure.
import type { Diagnostic } from '../../core/diagnostic.js';
import type { IrHeaderTransform, IrJsonBodyTransform, IrJsonValue, IrTemplate, IrTransform } from '../../ir/apim.js';
import { refOf, type TransformPolicy } from '../../resources/resource.js';
import type { HeaderTransformSpec, JsonBodyTransformSpec } from '../../resources/apim-kinds.js';
import { parseTemplate } from './transform-template.js';

/** The CRD's default for `body.maxBytes`: 64 KiB, what the gateway keeps for retries too. */
export const DEFAULT_TRANSFORM_MAX_BYTES = 64 * 1024;

export type PathEdit = { readonly kind: 'prefix'; readonly value: string } | { readonly kind: 'full'; readonly value: string };

export interface TransformPolicyEvaluation {
  readonly transform: IrTransform;
  /** `request.path`, when given and valid. */
  readonly path?: PathEdit;
  readonly invalid?: string;
}

// Framing and routing belong to the gateway: editing them would desynchronise the message
// (request smuggling with Content-Length / Transfer-Encoding) or undo the route's authority.
const MANAGED_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'host']);

// What a header value may hold (RFC 9110 §5.5 field-value: no CR, LF, NUL or other controls).
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

export function transformPolicyName(p: { readonly metadata: { readonly namespace?: string; readonly name: string } }): string {
  return `transformpolicy/${p.metadata.namespace ?? 'default'}/${p.metadata.name}`;
}

export function evaluateTransformPolicy(policy: TransformPolicy, diagnostics: Diagnostic[]): TransformPolicyEvaluation {
  const problems: string[] = [];
  const invalid = (path: string, message: string): void => {
    diagnostics.push({ severity: 'error', code: 'ERR_POLICY_INVALID', object: refOf(policy), source: policy.source, path, message: `${message}; this edit is left out` });
    problems.push(`${path}: ${message}`);
  };
  const { request, response } = policy.spec;
  const requestHeaders = request?.headers === undefined ? undefined : headersOf(request.headers, 'spec.request.headers', invalid);
  const requestBody = request?.body === undefined ? undefined : bodyOf(request.body, 'spec.request.body', invalid);
  const responseHeaders = response?.headers === undefined ? undefined : headersOf(response.headers, 'spec.response.headers', invalid);
  const responseBody = response?.body === undefined ? undefined : bodyOf(response.body, 'spec.response.body', invalid);
  let path: PathEdit | undefined;
  const p = request?.path;
  if (p !== undefined) {
    // The CRD's CEL rule, which ajv does not run.
    if ((p.replacePrefix === undefined) === (p.replaceFull === undefined)) invalid('spec.request.path', 'exactly one of replacePrefix and replaceFull is needed');
    else path = p.replacePrefix !== undefined ? { kind: 'prefix', value: p.replacePrefix } : { kind: 'full', value: p.replaceFull! };
  }
  const transform: IrTransform = {
    policy: transformPolicyName(policy),
    ...(requestHeaders !== undefined || requestBody !== undefined ? { request: { ...(requestHeaders !== undefined ? { headers: requestHeaders } : {}), ...(requestBody !== undefined ? { body: requestBody } : {}) } } : {}),
    ...(responseHeaders !== undefined || responseBody !== undefined ? { response: { ...(responseHeaders !== undefined ? { headers: responseHeaders } : {}), ...(responseBody !== undefined ? { body: responseBody } : {}) } } : {}),
  };
  return { transform, ...(path !== undefined ? { path } : {}), ...(problems.length > 0 ? { invalid: problems[0]! } : {}) };
}

type Invalid = (path: string, message: string) => void;

function headersOf(spec: HeaderTransformSpec, at: string, invalid: Invalid): IrHeaderTransform {
  const managed = (name: string, path: string): boolean => {
    if (!MANAGED_HEADERS.has(name.toLowerCase())) return false;
    invalid(path, `"${name}" is managed by the gateway and cannot be edited`);
    return true;
  };
  const remove: string[] = [];
  (spec.remove ?? []).forEach((name, i) => {
    if (!managed(name, `${at}.remove[${i}]`)) remove.push(name.toLowerCase());
  });
  const valued = (list: readonly { readonly name: string; readonly value: string }[] | undefined, field: 'set' | 'add'): { name: string; value: IrTemplate }[] => {
    const out: { name: string; value: IrTemplate }[] = [];
    (list ?? []).forEach((h, i) => {
      const path = `${at}.${field}[${i}]`;
      if (managed(h.name, `${path}.name`)) return;
      const template = templateOf(h.value, `${path}.value`, invalid);
      if (template === undefined) return;
      if (template.some((part) => part.kind === 'text' && CONTROL.test(part.text))) return invalid(`${path}.value`, 'a header value cannot hold control characters (CR, LF, NUL, ...)');
      out.push({ name: h.name.toLowerCase(), value: template });
    });
    return out;
  };
  return { remove, set: valued(spec.set, 'set'), add: valued(spec.add, 'add') };
}

function templateOf(text: string, path: string, invalid: Invalid): IrTemplate | undefined {
  const parsed = parseTemplate(text);
  if (parsed.kind === 'ok') return parsed.template;
  invalid(path, parsed.message);
  return undefined;
}

function jsonPathOf(text: string, path: string, invalid: Invalid): string[] | undefined {
  const segments = text.split('.');
  // JSON.parse makes `__proto__` an own key, but writing one by assignment would set a prototype.
  if (segments.some((s) => s === '' || s === '__proto__')) {
    invalid(path, `"${text}" is not a usable path (dot-separated keys, none empty or "__proto__")`);
    return undefined;
  }
  return segments;
}

function bodyOf(spec: { readonly json: JsonBodyTransformSpec; readonly maxBytes?: number }, at: string, invalid: Invalid): IrJsonBodyTransform {
  const json = spec.json;
  const remove: string[][] = [];
  (json.remove ?? []).forEach((p, i) => {
    const path = jsonPathOf(p, `${at}.json.remove[${i}]`, invalid);
    if (path !== undefined) remove.push(path);
  });
  const rename: { from: string[]; to: string[] }[] = [];
  (json.rename ?? []).forEach((r, i) => {
    const from = jsonPathOf(r.from, `${at}.json.rename[${i}].from`, invalid);
    const to = jsonPathOf(r.to, `${at}.json.rename[${i}].to`, invalid);
    if (from !== undefined && to !== undefined) rename.push({ from, to });
  });
  const set: { path: string[]; value: IrJsonValue }[] = [];
  (json.set ?? []).forEach((s, i) => {
    const path = jsonPathOf(s.path, `${at}.json.set[${i}].path`, invalid);
    if (path === undefined) return;
    if (typeof s.value !== 'string') return void set.push({ path, value: { kind: 'json', value: s.value } });
    const template = templateOf(s.value, `${at}.json.set[${i}].value`, invalid);
    if (template === undefined) return;
    // A constant string stays a constant.
    const only = template.length === 1 ? template[0]! : undefined;
    set.push({ path, value: only?.kind === 'text' ? { kind: 'json', value: only.text } : { kind: 'template', template } });
  });
  return { maxBytes: spec.maxBytes ?? DEFAULT_TRANSFORM_MAX_BYTES, remove, rename, set };
}

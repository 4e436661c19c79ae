// TransformPolicy JSON edits on a parsed document, in place: remove, rename, set. Paths walk own
// properties of objects (and integer indexes of arrays); a path through something else (a string,
// a missing array element) is left alone rather than turned into an error, since the body belongs
// to the client or the upstream. Writes define properties rather than assign them, so no key can
// reach a prototype (the translator also refuses `__proto__`).
import type { IrJsonBodyTransform } from '../../../ir/apim.js';
import type { RequestContext } from '../request-context.js';
import { compileJsonValue, type TemplateDeps } from './render-template.js';

type Container = Record<string, unknown> | unknown[];

const INDEX = /^(0|[1-9][0-9]{0,8})$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function childOf(container: Container, key: string): unknown {
  if (Array.isArray(container)) return INDEX.test(key) ? container[Number(key)] : undefined;
  return Object.hasOwn(container, key) ? container[key] : undefined;
}

function define(container: Container, key: string, value: unknown): void {
  if (Array.isArray(container)) {
    const i = INDEX.test(key) ? Number(key) : -1;
    // Existing elements, or one appended at the end: never a sparse array.
    if (i >= 0 && i <= container.length) container[i] = value;
    return;
  }
  Object.defineProperty(container, key, { value, writable: true, enumerable: true, configurable: true });
}

/** The container holding the last key of `path`; with `create`, missing objects on the way are made. */
function parentOf(doc: unknown, path: readonly string[], create: boolean): Container | undefined {
  let cur: unknown = doc;
  for (let i = 0; i < path.length - 1; i++) {
    if (!isObject(cur) && !Array.isArray(cur)) return undefined;
    let next = childOf(cur, path[i]!);
    if (next === undefined && create && isObject(cur)) define(cur, path[i]!, (next = {}));
    cur = next;
  }
  return isObject(cur) || Array.isArray(cur) ? cur : undefined;
}

function take(doc: unknown, path: readonly string[]): { found: boolean; value?: unknown } {
  const parent = parentOf(doc, path, false);
  const key = path[path.length - 1]!;
  if (parent === undefined) return { found: false };
  if (Array.isArray(parent)) {
    if (!INDEX.test(key) || Number(key) >= parent.length) return { found: false };
    return { found: true, value: parent.splice(Number(key), 1)[0] };
  }
  if (!Object.hasOwn(parent, key)) return { found: false };
  const value = parent[key];
  delete parent[key];
  return { found: true, value };
}

function put(doc: unknown, path: readonly string[], value: unknown): void {
  const parent = parentOf(doc, path, true);
  if (parent !== undefined) define(parent, path[path.length - 1]!, value);
}

/** The edits as one function of the document; the document (not a copy) is edited and returned. */
export function compileJsonEdit(ir: IrJsonBodyTransform, deps: TemplateDeps): (ctx: RequestContext, doc: unknown) => unknown {
  const sets = ir.set.map((s) => ({ path: s.path, value: compileJsonValue(s.value, deps) }));
  return (ctx, doc) => {
    for (const path of ir.remove) take(doc, path);
    for (const r of ir.rename) {
      const moved = take(doc, r.from);
      if (moved.found) put(doc, r.to, moved.value);
    }
    for (const s of sets) put(doc, s.path, s.value(ctx));
    return doc;
  };
}

// JSON merge patch (RFC 7386 §2), the one PATCH flavour the fake accepts
// (Content-Type: application/merge-patch+json).

import { isJsonObject } from './kube-object.js';

export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isJsonObject(patch)) return patch;
  const result: Record<string, unknown> = isJsonObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    // RFC 7386: null removes the member.
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

// The `continue` token of a paginated list. Clients must treat it as opaque; it is shaped like
// the real one (apiserver pkg/storage/continue.go: base64url JSON of the snapshot revision and
// the key to start from) so that a test that peeks at it sees something realistic.

export interface ContinuePosition {
  /** Revision of the first page's snapshot; -1 means "latest" (an inconsistent continuation). */
  readonly rv: number;
  /** The first key to return. */
  readonly start: string;
}

export function encodeContinue(rv: number, lastKey: string): string {
  // The trailing NUL makes `start` the smallest key strictly after the last one returned.
  const json = JSON.stringify({ v: 'meta.k8s.io/v1', rv, start: `${lastKey}\u0000` });
  return Buffer.from(json).toString('base64url');
}

/** An inconsistent token for the same position: served at the latest revision. */
export function encodeInconsistentContinue(position: ContinuePosition): string {
  const json = JSON.stringify({ v: 'meta.k8s.io/v1', rv: -1, start: position.start });
  return Buffer.from(json).toString('base64url');
}

export function decodeContinue(token: string): ContinuePosition | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { v, rv, start } = parsed as Record<string, unknown>;
    if (v !== 'meta.k8s.io/v1' || typeof rv !== 'number' || typeof start !== 'string') return undefined;
    return { rv, start };
  } catch {
    return undefined;
  }
}

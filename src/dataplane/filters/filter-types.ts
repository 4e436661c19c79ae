// Filters are compiled per route at apply time; a route with none costs nothing per request.
// A request filter may edit the upstream request draft and returns an outcome: continue, or answer
// locally (auth and rate-limit filters in later issues answer 401/403/429 this way).

export interface RequestDraft {
  /** Flat [name, value, ...] headers that will go upstream (names as received or lower-case). */
  headers: string[];
  /** Origin-form path + query that will go upstream. */
  path: string;
  /** The path part matched by the route, for prefix rewrites. */
  readonly matchedPath: string;
}

export type FilterOutcome =
  | { readonly kind: 'continue' }
  | { readonly kind: 'respond'; readonly status: number; readonly details: string; readonly body?: string };

export const CONTINUE: FilterOutcome = { kind: 'continue' };

export type RequestFilter = (draft: RequestDraft) => FilterOutcome;
/** Edits the flat response header list in place. */
export type ResponseFilter = (headers: string[]) => void;

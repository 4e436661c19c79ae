// What each authentication method (api-key, jwt, basic, oidc) compiles to, so compile-authn.ts can
// try them in order without knowing any of them. The verdicts keep RequestAuthentication's rule:
// only a method that finds no credentials of its kind lets the next one try.
import type { IrConsumer } from '../../../ir/apim.js';
import type { BackendRequestFilter, FilterResponse } from '../filter-types.js';
import type { RequestContext } from '../request-context.js';

export type AuthnVerdict =
  /** No credentials of this method's kind where it looks: the next method tries. */
  | { readonly kind: 'absent' }
  /** Valid credentials. `consumer` is absent for a valid token naming no subject at all. */
  | { readonly kind: 'authenticated'; readonly consumer?: IrConsumer; readonly claims?: Readonly<Record<string, unknown>> }
  /** Credentials were presented and are wrong: 401, whatever the other methods would say. */
  | { readonly kind: 'rejected'; readonly description: string; readonly headers?: readonly string[] }
  /** The method answers the request itself: the oidc method's callback and logout paths. */
  | { readonly kind: 'respond'; readonly response: FilterResponse };

export const ABSENT: AuthnVerdict = { kind: 'absent' };

/** The `WWW-Authenticate` challenge of a method; `error` is the description of a rejection, if any. */
export type Challenge = (error: string | undefined) => string;

export interface CompiledAuthnMethod {
  readonly challenge: Challenge;
  /** Synchronous unless it must wait (JWT signature checks, a bcrypt miss), as filters are. */
  authenticate(ctx: RequestContext): AuthnVerdict | Promise<AuthnVerdict>;
  /**
   * No method found credentials and the policy requires some: the first method that answers here
   * replaces the 401 (oidc sends a browser to its provider's login). Undefined: the 401 stands.
   */
  readonly onMissing?: (ctx: RequestContext) => FilterResponse | undefined | Promise<FilterResponse | undefined>;
  /** Edits the upstream request whatever the verdict (oidc removes its session cookie). */
  readonly backendRequest?: BackendRequestFilter;
}

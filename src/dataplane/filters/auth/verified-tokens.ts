// Tokens already verified, so a client that sends the same token on every request (the common
// case: a token lives minutes to hours) pays for one signature check, not one per request. Envoy's
// jwt_authn does the same (`jwt_cache_config`). What the cache keeps is only what verification
// established for good: the payload and the key-set version it was checked with. The time claims
// (`exp`, `nbf`, `iat`) are checked again on every hit against the clock, and a hit whose keys have
// changed since (a rotation, a refetch) is verified again, so a removed key stops being honoured.
//
// Only tokens that verified are stored, so a client cannot fill the cache with garbage; the bound
// caps what many distinct valid tokens cost (oldest entry out first), and tokens longer than
// MAX_TOKEN_LENGTH are never cached.
import type { JWTPayload } from 'jose';
import type { AuthnVerdict } from './authn-method.js';

export interface VerifiedToken {
  /** The answer a hit gives: made once, when the token verified. */
  readonly verdict: AuthnVerdict;
  readonly payload: JWTPayload;
  /** Version of the key set the signature was checked with (inline keys never change). */
  readonly keysVersion: number;
}

export const DEFAULT_VERIFIED_TOKENS = 1024;
export const MAX_TOKEN_LENGTH = 4096;

export class VerifiedTokens {
  readonly #max: number;
  readonly #entries = new Map<string, VerifiedToken>();

  constructor(max = DEFAULT_VERIFIED_TOKENS) {
    this.#max = Math.max(0, max);
  }

  get(token: string): VerifiedToken | undefined {
    return this.#entries.get(token);
  }

  set(token: string, entry: VerifiedToken): void {
    if (this.#max === 0 || token.length > MAX_TOKEN_LENGTH) return;
    this.#entries.delete(token);
    // A Map iterates in insertion order: the first key is the oldest entry.
    if (this.#entries.size >= this.#max) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(token, entry);
  }

  delete(token: string): void {
    this.#entries.delete(token);
  }

  get size(): number {
    return this.#entries.size;
  }
}

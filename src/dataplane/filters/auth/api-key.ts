// API keys: read from a header, a query parameter or a cookie (first place found wins), hashed
// with SHA-256 and looked up among the configured hashes. The IR holds only hashes (apim.ts), so
// neither the config nor `/api/config` nor a heap dump reveals a key.
import { hash } from 'node:crypto';
import type { IrApiKeyMethod, IrConsumer } from '../../../ir/apim.js';
import type { RequestContext } from '../request-context.js';
import { ABSENT, type AuthnVerdict, type CompiledAuthnMethod } from './authn-method.js';
import { apiKeyChallenge } from './challenge.js';
import { cookieValue, headerValue, queryValue } from './request-credentials.js';

/**
 * Lookup by hash in a Map, not a constant-time scan of every hash, as Kong's key-auth does: the
 * lookup compares the SHA-256 *digest* of what the client sent with stored digests, and the time
 * it takes (string hashing, then equality that stops at the first differing character) can at most
 * reveal how many leading hex digits of some stored digest the digest of a chosen input shares.
 * Steering a digest's prefix needs about 16^n tries per digit learnt (SHA-256 is preimage
 * resistant), and even a whole digest only allows an offline search for the key, which for the
 * 256-bit keys `isthmus keys create` makes is out of reach (a weak, hand-made key is as exposed as
 * it is to anyone who reads the Secret). A scan with timingSafeEqual would cost O(keys) per request
 * for no secret that the lookup does not already protect.
 */
export function compileApiKey(method: IrApiKeyMethod, realm: string): CompiledAuthnMethod {
  const byHash = new Map<string, IrConsumer>();
  // Two consumers with one key is the translator's to report; the first keeps it, as in the IR order.
  for (const k of method.keys) if (!byHash.has(k.sha256.toLowerCase())) byHash.set(k.sha256.toLowerCase(), k.consumer);
  const { header, query, cookie } = method.from;

  const present = (ctx: RequestContext): string | undefined => {
    // A key somewhere this method does not read (configured for a header, sent in the query) is
    // no key at all for it: accepting it elsewhere would put it in URLs and logs behind the
    // operator's back.
    if (header !== undefined) {
      const v = headerValue(ctx, header);
      if (v !== undefined) return v.trim();
    }
    if (query !== undefined) {
      const v = queryValue(ctx, query);
      if (v !== undefined) return v;
    }
    if (cookie !== undefined) return cookieValue(ctx, cookie);
    return undefined;
  };

  return {
    challenge: apiKeyChallenge(realm),
    authenticate(ctx): AuthnVerdict {
      const key = present(ctx);
      if (key === undefined) return ABSENT;
      if (key === '') return { kind: 'rejected', description: 'empty API key' };
      const consumer = byHash.get(sha256Hex(key));
      return consumer === undefined ? { kind: 'rejected', description: 'unknown API key' } : { kind: 'authenticated', consumer };
    },
  };
}

/** One-shot crypto.hash (Node ≥ 20.12): a quarter of createHash().update().digest()'s time, no Hash object per request. */
export function sha256Hex(value: string): string {
  return hash('sha256', value, 'hex');
}

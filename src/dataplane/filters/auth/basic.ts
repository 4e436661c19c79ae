// HTTP Basic (RFC 7617) against bcrypt hashes, as `htpasswd -B` writes them (`$2y$`; bcryptjs 3
// reads `$2a$`, `$2b$` and `$2y$` alike, which the tests check with a PHP-made `$2y$` hash).
import { createHash } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type { Clock } from '../../../core/clock.js';
import type { IrBasicMethod, IrConsumer } from '../../../ir/apim.js';
import { ABSENT, type AuthnVerdict, type CompiledAuthnMethod } from './authn-method.js';
import { basicChallenge } from './challenge.js';
import { authorizationFor } from './request-credentials.js';

/** How long a verified user/password pair skips bcrypt, and how many pairs are remembered. */
export const BASIC_CACHE_TTL_MS = 60_000;
const BASIC_CACHE_MAX_ENTRIES = 10_000;

const utf8 = new TextDecoder('utf-8', { fatal: true });

interface BasicUser {
  readonly bcrypt: string;
  readonly consumer: IrConsumer;
}

/**
 * bcrypt costs tens of milliseconds on purpose, and a keep-alive client sends the same
 * credentials with every request, so a successful check is remembered for BASIC_CACHE_TTL_MS.
 * Why the cache is safe:
 * - it holds SHA-256(user, stored hash, password) digests, never a password, and only successes:
 *   a wrong password always pays the full bcrypt cost, so the cache does not speed up guessing;
 * - the stored hash is part of the key, and the cache belongs to one compiled filter, so a changed
 *   password or a removed user (a new config) stops matching at once, not after the TTL;
 * - entries expire on the injected clock and the map is capped, so it cannot grow without bound.
 * A process-memory reader could brute-force a weak password from a digest faster than from bcrypt,
 * but such a reader already sees every request's Authorization header.
 */
export function compileBasic(method: IrBasicMethod, realm: string, clock: Clock): CompiledAuthnMethod {
  const users = new Map<string, BasicUser>();
  for (const u of method.users) if (!users.has(u.user)) users.set(u.user, { bcrypt: u.bcrypt, consumer: u.consumer });
  // An unknown user is checked against a real hash anyway (the result ignored), so the time of a
  // 401 does not tell which user names exist (the same cost as a configured user, as no constant could).
  const decoy = method.users[0]?.bcrypt;
  const verified = new Map<string, number>();

  const remember = (key: string): void => {
    if (verified.size >= BASIC_CACHE_MAX_ENTRIES) {
      // The oldest insertion first (Map order): crude, but bounded, and a miss only costs one bcrypt.
      const oldest = verified.keys().next();
      if (oldest.done !== true) verified.delete(oldest.value);
    }
    verified.set(key, clock.monotonicMs() + BASIC_CACHE_TTL_MS);
  };

  return {
    challenge: basicChallenge(realm),
    authenticate(ctx): AuthnVerdict | Promise<AuthnVerdict> {
      const encoded = authorizationFor(ctx, 'authorization', 'Basic ');
      if (encoded === undefined) return ABSENT;
      const pair = decodeBasic(encoded);
      if (pair === undefined) return { kind: 'rejected', description: 'malformed basic credentials' };
      const user = users.get(pair.user);
      if (user === undefined) {
        if (decoy === undefined) return WRONG;
        return compare(pair.password, decoy).then(() => WRONG);
      }
      const key = createHash('sha256').update(pair.user).update('\0').update(user.bcrypt).update('\0').update(pair.password).digest('base64');
      const until = verified.get(key);
      if (until !== undefined) {
        if (until > clock.monotonicMs()) return { kind: 'authenticated', consumer: user.consumer };
        verified.delete(key);
      }
      // bcryptjs's asynchronous compare yields to the event loop between slices of work (at most
      // 100 ms each), so other requests progress while a high-cost hash is checked.
      return compare(pair.password, user.bcrypt).then((ok) => {
        if (!ok) return WRONG;
        remember(key);
        return { kind: 'authenticated', consumer: user.consumer };
      });
    },
  };
}

/** One reason for an unknown user and a wrong password alike: the answer must not tell them apart. */
const WRONG: AuthnVerdict = { kind: 'rejected', description: 'invalid user or password' };

/** A malformed stored hash is a failed check (the translator reports it), never a thrown error. */
function compare(password: string, hash: string): Promise<boolean> {
  return bcrypt.compare(password, hash).catch(() => false);
}

/**
 * RFC 7617 §2: `base64(user-id ":" password)`; the user-id has no colon, the password may have
 * several, so the split is at the first. UTF-8, as the challenge's `charset="UTF-8"` announces.
 */
export function decodeBasic(encoded: string): { user: string; password: string } | undefined {
  // RFC 4648 §4 alphabet, padding optional (some clients drop it); Buffer would skip junk silently.
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.replace(/=+$/, '').length % 4 === 1) return undefined;
  let text: string;
  try {
    text = utf8.decode(Buffer.from(encoded, 'base64'));
  } catch {
    return undefined;
  }
  const colon = text.indexOf(':');
  if (colon === -1) return undefined;
  return { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

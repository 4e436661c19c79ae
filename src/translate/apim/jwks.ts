// An inline JSON Web Key Set (RFC 7517) as a policy gives it: public keys only. A key with a
// private member (RFC 7518 §6.2.2 `d`, §6.3.2 `p`/`q`/`dp`/`dq`/`qi`, RFC 8037 `d`) or a symmetric
// key (`oct`) would put a secret in the configuration and in the IR; it is refused. Pure.

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

export type JwksResult = { readonly kind: 'ok'; readonly keys: readonly Readonly<Record<string, unknown>>[] } | { readonly kind: 'invalid'; readonly message: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `keys` of a JWKS: each an object with a public `kty` (RSA, EC, OKP) and no private member. */
export function readJwksKeys(keys: unknown): JwksResult {
  if (!Array.isArray(keys) || keys.length === 0) return { kind: 'invalid', message: 'expected a JWKS with at least one key in "keys"' };
  for (const [i, key] of keys.entries()) {
    if (!isRecord(key)) return { kind: 'invalid', message: `keys[${i}]: expected a JSON Web Key object` };
    if (key.kty !== 'RSA' && key.kty !== 'EC' && key.kty !== 'OKP') return { kind: 'invalid', message: `keys[${i}]: expected kty RSA, EC or OKP (a public key), found ${JSON.stringify(key.kty)}` };
    const secret = PRIVATE_MEMBERS.filter((m) => m in key);
    if (secret.length > 0) return { kind: 'invalid', message: `keys[${i}]: holds private key members (${secret.join(', ')}); only public keys belong in a policy` };
  }
  return { kind: 'ok', keys: keys as Readonly<Record<string, unknown>>[] };
}

/** Istio's `jwks`: the key set as a JSON string. */
export function parseJwksJson(text: string): JwksResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return { kind: 'invalid', message: `expected a JSON Web Key Set as JSON: ${(e as Error).message}` };
  }
  return isRecord(parsed) ? readJwksKeys(parsed.keys) : { kind: 'invalid', message: 'expected a JSON object with "keys"' };
}

// Shared by the authentication tests: request contexts as the request handler builds them, a real
// JWKS server on loopback that counts its fetches, RSA keys and tokens signed with jose.
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import { RequestContextRecord } from '../../../src/dataplane/filters/request-context.js';
import type { FilterOutcome, RequestDraft } from '../../../src/dataplane/filters/filter-types.js';
import type { IrConsumer } from '../../../src/ir/apim.js';

export function contextOf(options: { headers?: Record<string, string | string[]>; query?: string; path?: string; upgrade?: boolean } = {}): RequestContextRecord {
  return new RequestContextRecord(
    'req-1',
    performance.now(),
    Date.now(),
    'GET',
    'http',
    'api.example.com',
    'api.example.com',
    options.path ?? '/orders',
    options.query ?? '',
    options.headers ?? {},
    '127.0.0.1',
    'HTTP/1.1',
    'listener/http',
    'httproute/default/orders/rule/0',
    options.upgrade ?? false,
  );
}

export function consumer(name: string, groups: string[] = [], plan?: string): IrConsumer {
  return plan === undefined ? { name, groups } : { name, groups, plan };
}

/** Awaits the request phase whether it answered synchronously or not. */
export async function settle(outcome: FilterOutcome | Promise<FilterOutcome>): Promise<FilterOutcome> {
  return await outcome;
}

export function draftOf(headers: string[]): RequestDraft {
  return { headers, path: '/orders', matchedPath: '/orders' };
}

/** The values of one header in a flat list, in order. */
export function headerValues(flat: readonly string[] | undefined, name: string): string[] {
  const out: string[] = [];
  for (let i = 0; flat !== undefined && i < flat.length; i += 2) if (flat[i]!.toLowerCase() === name) out.push(flat[i + 1]!);
  return out;
}

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly jwk: JWK;
}

export async function rsaKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return { kid, privateKey, publicKey, jwk };
}

export const ISSUER = 'https://issuer.example';
export const AUDIENCE = 'orders-api';
/** A fixed wall clock for the tests (2025-01-01T00:00:00Z) in seconds. */
export const NOW_SEC = 1_735_689_600;

export async function signToken(key: SigningKey, claims: JWTPayload = {}, header: { kid?: string | null } = {}): Promise<string> {
  const kid = header.kid === null ? undefined : (header.kid ?? key.kid);
  return new SignJWT({ sub: 'alice', iss: ISSUER, aud: AUDIENCE, iat: NOW_SEC - 10, exp: NOW_SEC + 300, ...claims })
    .setProtectedHeader(kid === undefined ? { alg: 'RS256' } : { alg: 'RS256', kid })
    .sign(key.privateKey);
}

export interface JwksServer {
  readonly url: string;
  /** GETs answered so far. */
  fetches(): number;
  setKeys(keys: readonly JWK[]): void;
  /** Answer every later request with this status (a JWKS outage). */
  failWith(status: number | undefined): void;
  close(): Promise<void>;
}

export async function startJwksServer(keys: readonly JWK[]): Promise<JwksServer> {
  let current = keys;
  let count = 0;
  let failure: number | undefined;
  const server = http.createServer((_req, res) => {
    count++;
    if (failure !== undefined) {
      res.writeHead(failure).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify({ keys: current }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    fetches: () => count,
    setKeys: (k) => {
      current = k;
    },
    failWith: (status) => {
      failure = status;
    },
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

// A cluster's upstream TLS policy, compiled once per apply into what a TLS client needs: a secure
// context holding the CA bundle (parsed once, not per connection), the name sent as SNI, and the
// identity check. The name always comes from the policy, never from the request's Host: a client
// must not be able to choose which name the upstream certificate is checked against.
import { createHash, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import tls, { type ConnectionOptions, type PeerCertificate } from 'node:tls';
import type { IrSubjectAltName, IrUpstreamTls } from '../../ir/types.js';

export interface UpstreamTls {
  /**
   * Short sha256 of the policy. Connection pools are per endpoint and per digest: TLS sessions
   * are resumed without a fresh identity check (node skips checkServerIdentity on resumption), so
   * two policies must never share a pool, and a changed policy gets fresh connections on reload.
   */
  readonly digest: string;
  /** Absent in the IR: the endpoint's own address is the name, as for any HTTPS client. */
  readonly serverName: string | undefined;
  readonly skipVerify: boolean;
  /** The CA bundle; undefined means node's default CA store. */
  readonly secureContext: tls.SecureContext | undefined;
  readonly subjectAltNames: readonly IrSubjectAltName[] | undefined;
}

/** Throws when OpenSSL refuses the CA bundle (the caller turns that into a diagnostic). */
export function compileUpstreamTls(policy: IrUpstreamTls | undefined): UpstreamTls {
  const digest = createHash('sha256')
    .update(JSON.stringify(policy ?? null))
    .digest('hex')
    .slice(0, 16);
  if (policy === undefined) return { digest, serverName: undefined, skipVerify: false, secureContext: undefined, subjectAltNames: undefined };
  const v = policy.verification;
  if (v.kind === 'insecure-skip-verify') {
    return { digest, serverName: policy.serverName, skipVerify: true, secureContext: undefined, subjectAltNames: undefined };
  }
  // A context with `ca` trusts exactly that bundle; without one, node's default roots apply.
  const secureContext = v.caPem === undefined ? undefined : tls.createSecureContext({ ca: checkCaBundle(v.caPem) });
  return { digest, serverName: policy.serverName, skipVerify: false, secureContext, subjectAltNames: v.subjectAltNames };
}

/**
 * OpenSSL skips what it cannot parse in `ca` without a word, which would leave a cluster trusting
 * nothing (or less than it says) with no diagnostic; every block must parse, and one at least.
 */
function checkCaBundle(pem: string): string {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error('no PEM certificate in it');
  blocks.forEach((block, i) => {
    try {
      new X509Certificate(block);
    } catch {
      throw new Error(`certificate ${i + 1} of ${blocks.length} does not parse`);
    }
  });
  return pem;
}

/** The name the certificate is checked against for one endpoint, and the SNI to send (none for an IP, RFC 6066 §3). */
export function tlsNamesFor(policy: UpstreamTls, endpointAddress: string): { readonly name: string; readonly sni: string | undefined } {
  const name = policy.serverName ?? endpointAddress;
  return { name, sni: isIP(name) === 0 ? name : undefined };
}

/** node:tls options for connections to one endpoint under the policy (SNI is set by the caller). */
export function tlsConnectOptions(policy: UpstreamTls, name: string): ConnectionOptions {
  if (policy.skipVerify) return { rejectUnauthorized: false };
  const sans = policy.subjectAltNames;
  return {
    rejectUnauthorized: true,
    ...(policy.secureContext === undefined ? {} : { secureContext: policy.secureContext }),
    // Called by node only once the chain verified; the hostname node offers is ignored on purpose.
    checkServerIdentity: (_hostname: string, cert: PeerCertificate) => checkIdentity(name, sans, cert),
  };
}

function checkIdentity(name: string, sans: readonly IrSubjectAltName[] | undefined, cert: PeerCertificate): Error | undefined {
  if (sans === undefined || sans.length === 0) return tls.checkServerIdentity(name, cert);
  for (const san of sans) {
    if (san.kind === 'dns' ? tls.checkServerIdentity(san.value, cert) === undefined : uriSansOf(cert.subjectaltname).includes(san.value)) return undefined;
  }
  const wanted = sans.map((s) => `${s.kind === 'dns' ? 'DNS' : 'URI'}:${s.value}`).join(', ');
  // The code node uses for a name mismatch, so callers (undici, classify-upstream-error) treat both alike.
  return Object.assign(new Error(`upstream certificate carries none of the expected subject alt names (${wanted})`), {
    code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    reason: 'subject alt name mismatch',
    host: name,
    cert,
  });
}

/**
 * URI entries of node's `subjectaltname` string (`DNS:a, URI:spiffe://td/ns/x, IP Address:1.2.3.4`).
 * node quotes a value as a JSON string when it holds a comma, quote or control character
 * (CVE-2021-44532), so such values are decoded rather than split apart.
 */
export function uriSansOf(subjectaltname: string | undefined): string[] {
  const out: string[] = [];
  if (subjectaltname === undefined) return out;
  for (const m of subjectaltname.matchAll(/(?:^|, )([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)/g)) {
    if (m[1] !== 'URI') continue;
    const raw = m[2]!;
    try {
      out.push(raw.startsWith('"') ? (JSON.parse(raw) as string) : raw);
    } catch {
      // An entry node printed but we cannot decode cannot equal an expected value either.
    }
  }
  return out;
}

/** What GET /api/upstreams shows of a policy: how it verifies, never the CA bundle itself. */
export function describeTls(policy: UpstreamTls): { serverName: string; verify: 'skip' | 'ca-bundle' | 'default-cas'; subjectAltNames?: string[]; digest: string } {
  const verify = policy.skipVerify ? 'skip' : policy.secureContext === undefined ? 'default-cas' : 'ca-bundle';
  const sans = policy.subjectAltNames?.map((s) => `${s.kind === 'dns' ? 'DNS' : 'URI'}:${s.value}`);
  return { serverName: policy.serverName ?? '(endpoint address)', verify, ...(sans === undefined ? {} : { subjectAltNames: sans }), digest: policy.digest };
}

// A cluster's upstream TLS policy, compiled once per apply into what a TLS client needs: a secure
// context holding the CA bundle (parsed once, not per connection), the name sent as SNI, and the
// identity check. The name always comes from the policy, never from the request's Host: a client
// must not be able to choose which name the upstream certificate is checked against.
import { createHash, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import tls, { type ConnectionOptions, type PeerCertificate } from 'node:tls';
import type { IrCertificate, IrSubjectAltName, IrUpstreamTls } from '../../ir/types.js';

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
  /** The CA bundle and, for mutual TLS, the client certificate; undefined means node's default CA store and no client certificate. */
  readonly secureContext: tls.SecureContext | undefined;
  /** True when `secureContext` trusts a bundle of its own (not node's default CAs). */
  readonly ownCa: boolean;
  /** Mutual TLS: the name of the certificate presented to the upstream. */
  readonly clientCertificate: string | undefined;
  readonly subjectAltNames: readonly IrSubjectAltName[] | undefined;
}

/**
 * Throws when OpenSSL refuses the CA bundle or the client certificate (the caller turns that
 * into a diagnostic). `clientCertificate` is the IR certificate `policy.clientCertificate` names.
 */
export function compileUpstreamTls(policy: IrUpstreamTls | undefined, clientCertificate?: IrCertificate): UpstreamTls {
  // The certificate's content is in the digest too: a renewed client certificate under the same
  // name must not reuse connections (or sessions) made with the old one.
  const digest = createHash('sha256')
    .update(JSON.stringify(policy ?? null))
    .update(clientCertificate === undefined ? '' : `\0${clientCertificate.certPem}\0${clientCertificate.keyPem}`)
    .digest('hex')
    .slice(0, 16);
  const none = { secureContext: undefined, ownCa: false, clientCertificate: undefined, subjectAltNames: undefined };
  if (policy === undefined) return { digest, serverName: undefined, skipVerify: false, ...none };
  const v = policy.verification;
  const client = clientCertificate === undefined ? {} : { cert: clientCertificate.certPem, key: clientCertificate.keyPem };
  if (v.kind === 'insecure-skip-verify') {
    const secureContext = clientCertificate === undefined ? undefined : tls.createSecureContext(client);
    return { digest, serverName: policy.serverName, skipVerify: true, ...none, secureContext, clientCertificate: clientCertificate?.name };
  }
  // A context with `ca` trusts exactly that bundle; without one, node's default roots apply
  // (tls.createSecureContext loads them when `ca` is absent, so a client certificate alone keeps them).
  const ca = v.caPem === undefined ? {} : { ca: checkCaBundle(v.caPem) };
  const secureContext = v.caPem === undefined && clientCertificate === undefined ? undefined : tls.createSecureContext({ ...ca, ...client });
  return { digest, serverName: policy.serverName, skipVerify: false, secureContext, ownCa: v.caPem !== undefined, clientCertificate: clientCertificate?.name, subjectAltNames: v.subjectAltNames };
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
  if (policy.skipVerify) return { rejectUnauthorized: false, ...(policy.secureContext === undefined ? {} : { secureContext: policy.secureContext }) };
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
export function describeTls(policy: UpstreamTls): { serverName: string; verify: 'skip' | 'ca-bundle' | 'default-cas'; subjectAltNames?: string[]; clientCertificate?: string; digest: string } {
  const verify = policy.skipVerify ? 'skip' : policy.ownCa ? 'ca-bundle' : 'default-cas';
  const sans = policy.subjectAltNames?.map((s) => `${s.kind === 'dns' ? 'DNS' : 'URI'}:${s.value}`);
  return {
    serverName: policy.serverName ?? '(endpoint address)',
    verify,
    ...(sans === undefined ? {} : { subjectAltNames: sans }),
    ...(policy.clientCertificate === undefined ? {} : { clientCertificate: policy.clientCertificate }),
    digest: policy.digest,
  };
}

// DestinationRule `tls` → IR upstream TLS: SIMPLE verifies the upstream (CA from `credentialName`,
// `sni`, `subjectAltNames`); MUTUAL also presents the client certificate from `credentialName`,
// which becomes an IR certificate the cluster's TLS names (so the key stays where the admin API
// redacts it). ISTIO_MUTUAL needs the mesh CA and is refused earlier (destination-rules.ts).
import type { Diagnostic } from '../../core/diagnostic.js';
import type { IrCertificate, IrUpstreamTls } from '../../ir/types.js';
import { refOf, type DestinationRule, type Service } from '../../resources/resource.js';
import { namespacedKey, type ResourceIndex } from '../../store/resource-index.js';
import { CA_BUNDLE_KEY } from '../services/ca-bundle.js';
import { defaultUpstreamServerName } from '../services/upstream-tls-annotations.js';
import { readIstioCa, readIstioKeyPair, type IstioKeyPair } from './istio-credentials.js';
import type { Policy } from './traffic-policy.js';

/** MUTUAL: the client certificate and key, from `credentialName` (file paths are not read). */
export function mutualKeyPair(policy: Policy, rule: DestinationRule, index: ResourceIndex): IstioKeyPair {
  const name = policy.tls?.credentialName;
  if (name === undefined) {
    return { kind: 'invalid', message: `needs tls.credentialName (a Secret with tls.crt and tls.key, or cert and key)${policy.tls?.clientCertificate !== undefined ? '; file paths (clientCertificate, privateKey) are not read' : ''}` };
  }
  return readIstioKeyPair(index, rule.metadata.namespace ?? 'default', name);
}

/**
 * `d.service` absent: a ServiceEntry host, whose name is the rule's host. `clientCertificates`
 * collects MUTUAL client certificates for the snapshot; without it MUTUAL yields no certificate
 * (callers that cannot carry one refuse MUTUAL first).
 */
export function upstreamTlsOf(
  tls: Policy['tls'],
  d: { readonly rule: DestinationRule; readonly service?: Service | undefined },
  index: ResourceIndex,
  diagnostics: Diagnostic[],
  clientCertificates?: Map<string, IrCertificate>,
): IrUpstreamTls | undefined {
  if (!tls || (tls.mode !== 'SIMPLE' && tls.mode !== 'MUTUAL')) return undefined;
  const ns = d.rule.metadata.namespace ?? 'default';
  const serverName = tls.sni ?? (d.service ? defaultUpstreamServerName(d.service, d.service.metadata.namespace ?? 'default') : d.rule.spec.host);
  // MUTUAL: resolve() already refused a destination whose key pair is unusable.
  let clientCertificate: string | undefined;
  if (tls.mode === 'MUTUAL' && tls.credentialName !== undefined && clientCertificates !== undefined) {
    const pair = readIstioKeyPair(index, ns, tls.credentialName);
    if (pair.kind === 'ok') {
      clientCertificate = `destinationrule/${ns}/${d.rule.metadata.name}/client-certificate/${tls.credentialName}`;
      const secret = index.secrets.get(namespacedKey(ns, tls.credentialName));
      if (secret) clientCertificates.set(clientCertificate, { name: clientCertificate, origin: refOf(secret), serverNames: [], certPem: pair.certPem, keyPem: pair.keyPem });
    }
  }
  const client = clientCertificate !== undefined ? { clientCertificate } : {};
  if (tls.insecureSkipVerify === true) {
    diagnostics.push({ severity: 'warning', code: 'ERR_BACKEND_TLS_UNVERIFIED', object: refOf(d.rule), source: d.rule.source, path: 'trafficPolicy.tls.insecureSkipVerify', message: 'the upstream certificate is not verified (encrypted, not authenticated)' });
    return { serverName, verification: { kind: 'insecure-skip-verify' }, ...client };
  }
  let caPem: string | undefined;
  if (tls.credentialName !== undefined) {
    const ca = readIstioCa(index, ns, tls.credentialName);
    if (ca?.kind === 'ok') caPem = ca.pem;
    else {
      // Never fall back to "unverified": the default CA store is the stricter choice for a private CA.
      diagnostics.push({
        severity: 'error',
        code: 'ERR_BACKEND_TLS_INVALID',
        object: refOf(d.rule),
        source: d.rule.source,
        path: 'trafficPolicy.tls.credentialName',
        message: `${ca?.kind === 'invalid' ? ca.message : `no CA certificate ("${CA_BUNDLE_KEY}" or "cacert") in Secret ${ns}/${tls.credentialName} or ${ns}/${tls.credentialName}-cacert`}; the system CAs verify instead`,
      });
    }
  }
  const subjectAltNames = (tls.subjectAltNames ?? []).map((v) => ({ kind: v.includes('://') ? ('uri' as const) : ('dns' as const), value: v }));
  return {
    serverName,
    verification: { kind: 'verify', ...(caPem !== undefined ? { caPem } : {}), ...(subjectAltNames.length > 0 ? { subjectAltNames } : {}) },
    ...client,
  };
}

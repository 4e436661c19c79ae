import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { Diagnostic } from '../../core/diagnostic.js';
import type { IrCertificate } from '../../ir/types.js';
import { refOf, type Ingress, type Secret } from '../../resources/resource.js';
import { readSecretValue, TLS_SECRET_TYPE } from '../../resources/well-known.js';
import { namespacedKey, type ResourceIndex } from '../../store/resource-index.js';
import { checkIngressHost, compareHostnames, isWildcardHost } from './ingress-host.js';

export type KeyPair =
  | { readonly kind: 'valid'; readonly certPem: string; readonly keyPem: string; readonly sanNames: readonly string[] }
  | { readonly kind: 'invalid'; readonly message: string };

/** DNS names from a certificate's subjectAltName (`DNS:a.example.com, DNS:*.example.com`). */
function dnsNamesOf(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '')
    .split(', ')
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice(4).toLowerCase());
}

// node:crypto parses in memory; no I/O, so the translator stays pure.
export function checkKeyPair(secret: Secret): KeyPair {
  if (secret.type !== TLS_SECRET_TYPE) return { kind: 'invalid', message: `has type "${secret.type}", expected "${TLS_SECRET_TYPE}"` };
  const crt = readSecretValue(secret, 'tls.crt');
  const key = readSecretValue(secret, 'tls.key');
  if (!crt || crt.length === 0) return { kind: 'invalid', message: 'has no data["tls.crt"]' };
  if (!key || key.length === 0) return { kind: 'invalid', message: 'has no data["tls.key"]' };
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(crt);
  } catch {
    // OpenSSL's own message varies between versions; what matters is which key is wrong.
    return { kind: 'invalid', message: 'data["tls.crt"] is not a PEM X.509 certificate' };
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    return { kind: 'invalid', message: 'data["tls.key"] is not a PEM private key' };
  }
  if (!cert.checkPrivateKey(privateKey)) return { kind: 'invalid', message: 'data["tls.key"] does not match the certificate in data["tls.crt"]' };
  return { kind: 'valid', certPem: crt.toString('utf8'), keyPem: key.toString('utf8'), sanNames: dnsNamesOf(cert) };
}

/** Exact names before wildcards, then by name: the listener's first certificate is the SNI default. */
function compareCertificates(a: IrCertificate, b: IrCertificate): number {
  const rank = (c: IrCertificate): number => (c.serverNames.some((n) => !isWildcardHost(n)) ? 0 : c.serverNames.length > 0 ? 1 : 2);
  return rank(a) - rank(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/**
 * Certificates from the `spec.tls` of the given Ingresses, one per Secret, serving the union of
 * the hosts that name it (or its SAN DNS names when `hosts` is empty). A missing or invalid Secret
 * drops only that TLS entry: its hosts stay reachable over plain HTTP.
 */
export function collectIngressCertificates(ingresses: readonly Ingress[], index: ResourceIndex, diagnostics: Diagnostic[]): IrCertificate[] {
  const checked = new Map<Secret, KeyPair>();
  const bySecret = new Map<string, { secret: Secret; pair: Extract<KeyPair, { kind: 'valid' }>; names: Set<string> }>();
  for (const ingress of ingresses) {
    const namespace = ingress.metadata.namespace ?? 'default';
    ingress.spec.tls.forEach((tls, t) => {
      const blame = (code: Diagnostic['code'], path: string, message: string): void => {
        diagnostics.push({ severity: 'error', code, object: refOf(ingress), source: ingress.source, path, message });
      };
      // No secretName: the controller's default certificate would apply; Isthmus has none.
      if (tls.secretName === undefined) return;
      const secret = index.secrets.get(namespacedKey(namespace, tls.secretName));
      if (!secret) {
        blame('ERR_TLS_SECRET_NOT_FOUND', `spec.tls[${t}].secretName`, `Secret "${tls.secretName}" not found in namespace "${namespace}"; its hosts are served over HTTP only`);
        return;
      }
      let pair = checked.get(secret);
      if (!pair) {
        pair = checkKeyPair(secret);
        checked.set(secret, pair);
      }
      if (pair.kind === 'invalid') {
        blame('ERR_TLS_SECRET_INVALID', `spec.tls[${t}].secretName`, `Secret "${tls.secretName}" ${pair.message}; its hosts are served over HTTP only`);
        return;
      }
      const hosts = tls.hosts.filter((host, h) => {
        const problem = checkIngressHost(host);
        if (problem) blame('ERR_INGRESS_INVALID_HOST', `spec.tls[${t}].hosts[${h}]`, problem);
        return problem === undefined;
      });
      const key = namespacedKey(namespace, tls.secretName);
      const entry = bySecret.get(key) ?? { secret, pair, names: new Set<string>() };
      for (const name of tls.hosts.length > 0 ? hosts : pair.sanNames) entry.names.add(name);
      bySecret.set(key, entry);
    });
  }
  const certificates = [...bySecret.values()].map(({ secret, pair, names }): IrCertificate => ({
    name: `secret/${secret.metadata.namespace ?? 'default'}/${secret.metadata.name}`,
    origin: refOf(secret),
    serverNames: [...names].sort(compareHostnames),
    certPem: pair.certPem,
    keyPem: pair.keyPem,
  }));
  return certificates.sort(compareCertificates);
}

// Istio's `credentialName`: one Secret, in the namespace of the object that names it, holding a
// certificate, its key and (for mutual TLS) a CA bundle. Istio reads two layouts, and so do we:
//   * a TLS Secret: `tls.crt`, `tls.key`, and the CA in `ca.crt`;
//   * a generic (Opaque) Secret: `cert`, `key`, and the CA in `cacert`.
// The CA may instead sit in a second Secret named `<credentialName>-cacert` (key `ca.crt` or
// `cacert`), which Istio's gateway docs use for client-certificate validation.
// node:crypto parses in memory: the translator stays pure.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { Secret } from '../../resources/resource.js';
import { readSecretValue } from '../../resources/well-known.js';
import { namespacedKey, type ResourceIndex } from '../../store/resource-index.js';
import { parseCaBundle } from '../services/ca-bundle.js';

const CERT_KEYS = ['tls.crt', 'cert'] as const;
const KEY_KEYS = ['tls.key', 'key'] as const;
const CA_KEYS = ['ca.crt', 'cacert'] as const;

export type IstioKeyPair = { readonly kind: 'ok'; readonly certPem: string; readonly keyPem: string; readonly sanNames: readonly string[] } | { readonly kind: 'invalid'; readonly message: string };

export type IstioCa = { readonly kind: 'ok'; readonly pem: string; readonly from: string } | { readonly kind: 'invalid'; readonly message: string };

function firstValue(secret: Secret, keys: readonly string[]): { key: string; bytes: Buffer } | undefined {
  for (const key of keys) {
    const bytes = readSecretValue(secret, key);
    if (bytes !== undefined && bytes.length > 0) return { key, bytes };
  }
  return undefined;
}

/** The certificate and key of Secret `<ns>/<name>`, in either layout. */
export function readIstioKeyPair(index: ResourceIndex, ns: string, name: string): IstioKeyPair {
  const secret = index.secrets.get(namespacedKey(ns, name));
  if (!secret) return { kind: 'invalid', message: `Secret "${name}" not found in namespace "${ns}"` };
  const cert = firstValue(secret, CERT_KEYS);
  const key = firstValue(secret, KEY_KEYS);
  if (!cert || !key) return { kind: 'invalid', message: `Secret ${ns}/${name} has no certificate and key; expected data "tls.crt" and "tls.key" (or "cert" and "key")` };
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert.bytes);
  } catch {
    return { kind: 'invalid', message: `Secret ${ns}/${name} data["${cert.key}"] is not a PEM X.509 certificate` };
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key.bytes);
  } catch {
    return { kind: 'invalid', message: `Secret ${ns}/${name} data["${key.key}"] is not a PEM private key` };
  }
  if (!x509.checkPrivateKey(privateKey)) return { kind: 'invalid', message: `Secret ${ns}/${name} data["${key.key}"] does not match the certificate in data["${cert.key}"]` };
  const sanNames = (x509.subjectAltName ?? '')
    .split(', ')
    .filter((e) => e.startsWith('DNS:'))
    .map((e) => e.slice(4).toLowerCase());
  return { kind: 'ok', certPem: cert.bytes.toString('utf8'), keyPem: key.bytes.toString('utf8'), sanNames };
}

/**
 * The CA bundle for `credentialName`: `ca.crt` or `cacert` in the Secret itself, else in
 * `<name>-cacert`. Only CERTIFICATE blocks are kept (parseCaBundle), so a key never reaches the IR.
 */
export function readIstioCa(index: ResourceIndex, ns: string, name: string): IstioCa | undefined {
  for (const secretName of [name, `${name}-cacert`]) {
    const secret = index.secrets.get(namespacedKey(ns, secretName));
    if (!secret) continue;
    const found = firstValue(secret, CA_KEYS);
    if (!found) continue;
    const where = `Secret ${ns}/${secretName} "${found.key}"`;
    const bundle = parseCaBundle(found.bytes, where);
    return bundle.kind === 'ok' ? { kind: 'ok', pem: bundle.pem, from: where } : { kind: 'invalid', message: bundle.message };
  }
  return undefined;
}

// A PEM CA bundle as configuration carries it (a Secret's or ConfigMap's `ca.crt`), narrowed to its
// certificates. Shared by the Ingress upstream-TLS annotations and Gateway API's BackendTLSPolicy.
import { X509Certificate } from 'node:crypto';

/** The key cert-manager writes a CA into, and the one Gateway API's CA references name. */
export const CA_BUNDLE_KEY = 'ca.crt';

export type CaBundle = { readonly kind: 'ok'; readonly pem: string; readonly ignored: readonly string[] } | { readonly kind: 'invalid'; readonly message: string };

/**
 * The certificates of a PEM bundle, re-encoded one by one. Only CERTIFICATE blocks are kept, so
 * whatever else sits in the key (a private key put there by mistake) never reaches the IR, the
 * admin API or a log line. node:crypto parses in memory: the translator stays pure.
 */
export function parseCaBundle(bytes: Buffer, where: string): CaBundle {
  const blocks = [...bytes.toString('utf8').matchAll(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g)];
  const certificates = blocks.filter((b) => b[1] === 'CERTIFICATE');
  if (certificates.length === 0) {
    return { kind: 'invalid', message: `${where} holds no PEM certificate; expected one or more "-----BEGIN CERTIFICATE-----" blocks` };
  }
  const pem: string[] = [];
  for (const [i, block] of certificates.entries()) {
    try {
      pem.push(new X509Certificate(block[0]).toString());
    } catch {
      // OpenSSL's own message varies between versions; which block is broken is what helps.
      return { kind: 'invalid', message: `certificate ${i + 1} of ${certificates.length} in ${where} is not a valid PEM X.509 certificate` };
    }
  }
  return { kind: 'ok', pem: pem.join(''), ignored: blocks.filter((b) => b[1] !== 'CERTIFICATE').map((b) => b[1]!) };
}


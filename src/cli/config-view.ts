// What GET /api/config shows of the applied IR. Private keys never leave the process (as Envoy's
// config dump redacts them); CA bundles are public but can run to hundreds of kilobytes, so each
// is summarised by the subjects and a fingerprint that tell which CAs a cluster trusts.
// Credential hashes (API key SHA-256s, bcrypt hashes of Basic users) are one-way, but a key
// hash lets anyone who reads it check guesses offline, and an unsalted SHA-256 of a short key
// falls to that: they are redacted too; the consumers they identify stay visible. An oidc method's
// client secret and cookie key are secrets in the clear: redacted.
import { createHash, X509Certificate } from 'node:crypto';
import type { IrAuthnMethod } from '../ir/apim.js';
import type { IrCluster, IrFilter, IrListener, IrRoute, IrSnapshot } from '../ir/types.js';

export const REDACTED = '[redacted]';

export function configView(ir: IrSnapshot): IrSnapshot {
  return {
    ...ir,
    listeners: ir.listeners.map(summariseClientCa).map(redactCredentials),
    clusters: ir.clusters.map(summariseCaBundle),
    certificates: ir.certificates.map((c) => ({ ...c, keyPem: REDACTED })),
  };
}

function summariseCaBundle(cluster: IrCluster): IrCluster {
  const verification = cluster.tls?.verification;
  if (cluster.tls === undefined || verification?.kind !== 'verify' || verification.caPem === undefined) return cluster;
  return { ...cluster, tls: { ...cluster.tls, verification: { ...verification, caPem: describeCaBundle(verification.caPem) } } };
}

function summariseClientCa(listener: IrListener): IrListener {
  const validation = listener.tls?.clientValidation;
  const byCertificate = listener.tls?.clientValidationByCertificate;
  if (listener.tls === undefined || (validation === undefined && byCertificate === undefined)) return listener;
  return {
    ...listener,
    tls: {
      ...listener.tls,
      ...(validation === undefined ? {} : { clientValidation: { ...validation, caPem: describeCaBundle(validation.caPem) } }),
      ...(byCertificate === undefined ? {} : { clientValidationByCertificate: Object.fromEntries(Object.entries(byCertificate).map(([name, v]) => [name, { ...v, caPem: describeCaBundle(v.caPem) }])) }),
    },
  };
}

/** `[CA bundle: 2 certificates (CN=Example Root CA; CN=Other CA), sha256 3f2a…]` */
export function describeCaBundle(pem: string): string {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  const subjects = blocks.map((block) => {
    try {
      return new X509Certificate(block).subject.replace(/\n/g, ', ');
    } catch {
      return '(unparsable)';
    }
  });
  const digest = createHash('sha256').update(pem).digest('hex').slice(0, 16);
  const count = `${blocks.length} certificate${blocks.length === 1 ? '' : 's'}`;
  return `[CA bundle: ${count} (${subjects.join('; ')}), sha256 ${digest}]`;
}

function redactMethod(m: IrAuthnMethod): IrAuthnMethod {
  switch (m.kind) {
    case 'api-key':
      return { ...m, keys: m.keys.map((k) => ({ ...k, sha256: REDACTED })) };
    case 'basic':
      return { ...m, users: m.users.map((u) => ({ ...u, bcrypt: REDACTED })) };
    case 'jwt':
      return m;
    // Certificates are public (every TLS handshake shows them): their fingerprints reveal nothing.
    case 'client-certificate':
      return m;
    case 'oidc':
      return { ...m, clientSecret: REDACTED, cookieSecret: REDACTED };
  }
}

function redactFilter(f: IrFilter): IrFilter {
  return f.kind === 'authn' ? { ...f, authn: { ...f.authn, methods: f.authn.methods.map(redactMethod) } } : f;
}

function redactRoute(r: IrRoute): IrRoute {
  if (!r.filters.some((f) => f.kind === 'authn') && r.action.kind !== 'forward') return r;
  const action = r.action.kind === 'forward' ? { ...r.action, backends: r.action.backends.map((b) => (b.filters === undefined ? b : { ...b, filters: b.filters.map(redactFilter) })) } : r.action;
  return { ...r, action, filters: r.filters.map(redactFilter) };
}

/** API key hashes and bcrypt hashes in authn filters → `[redacted]`. */
function redactCredentials(listener: IrListener): IrListener {
  return { ...listener, virtualHosts: listener.virtualHosts.map((vh) => ({ ...vh, routes: vh.routes.map(redactRoute) })) };
}

// What GET /api/config shows of the applied IR. Private keys never leave the process (as Envoy's
// config dump redacts them); CA bundles are public but can run to hundreds of kilobytes, so each
// is summarised by the subjects and a fingerprint that tell which CAs a cluster trusts.
import { createHash, X509Certificate } from 'node:crypto';
import type { IrCluster, IrListener, IrSnapshot } from '../ir/types.js';

export function configView(ir: IrSnapshot): IrSnapshot {
  return {
    ...ir,
    listeners: ir.listeners.map(summariseClientCa),
    clusters: ir.clusters.map(summariseCaBundle),
    certificates: ir.certificates.map((c) => ({ ...c, keyPem: '[redacted]' })),
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

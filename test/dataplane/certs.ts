// Self-signed certificates made with the real openssl binary for TLS tests (fails loudly if absent).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TestCert {
  readonly certPem: string;
  readonly keyPem: string;
}

export function makeCert(dnsNames: readonly string[]): TestCert {
  const dir = mkdtempSync(path.join(tmpdir(), 'isthmus-cert-'));
  try {
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', `/CN=${dnsNames[0]}`, '-addext', `subjectAltName=${dnsNames.map((n) => `DNS:${n}`).join(',')}`,
      '-keyout', key, '-out', cert,
    ], { stdio: 'pipe' });
    return { certPem: readFileSync(cert, 'utf8'), keyPem: readFileSync(key, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

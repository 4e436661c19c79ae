// Certificates made with the real openssl binary for TLS tests (fails loudly if absent): self-signed
// ones, and a private CA with leaves it signs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

export interface TestCa extends TestCert {
  readonly name: string;
}

function inTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(path.join(tmpdir(), 'isthmus-cert-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A private certificate authority (self-signed, CA:TRUE), as a cluster's internal CA would be. */
export function makeCa(name = 'Isthmus Test CA'): TestCa {
  return inTempDir((dir) => {
    const key = path.join(dir, 'ca.key');
    const cert = path.join(dir, 'ca.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      '-keyout', key, '-out', cert,
    ], { stdio: 'pipe' });
    return { name, certPem: readFileSync(cert, 'utf8'), keyPem: readFileSync(key, 'utf8') };
  });
}

/** A server (or, with usage clientAuth, a client) certificate signed by `ca`, with the given SANs (`DNS:a.example`, `URI:spiffe://td/ns/x`, `IP:127.0.0.1`). */
export function makeLeaf(ca: TestCa, subjectAltNames: readonly string[], usage: 'serverAuth' | 'clientAuth' = 'serverAuth'): TestCert {
  return inTempDir((dir) => {
    const key = path.join(dir, 'leaf.key');
    const csr = path.join(dir, 'leaf.csr');
    const cert = path.join(dir, 'leaf.pem');
    const ext = path.join(dir, 'ext.cnf');
    writeFileSync(path.join(dir, 'ca.pem'), ca.certPem);
    writeFileSync(path.join(dir, 'ca.key'), ca.keyPem);
    writeFileSync(ext, `basicConstraints=CA:FALSE\nextendedKeyUsage=${usage}\nsubjectAltName=${subjectAltNames.join(',')}\n`);
    execFileSync('openssl', [
      'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=isthmus test leaf', '-keyout', key, '-out', csr,
    ], { stdio: 'pipe' });
    execFileSync('openssl', [
      'x509', '-req', '-in', csr, '-CA', path.join(dir, 'ca.pem'), '-CAkey', path.join(dir, 'ca.key'), '-CAcreateserial',
      '-days', '2', '-extfile', ext, '-out', cert,
    ], { stdio: 'pipe' });
    return { certPem: readFileSync(cert, 'utf8'), keyPem: readFileSync(key, 'utf8') };
  });
}

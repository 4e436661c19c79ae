// Client certificates (mutual TLS at the listener) as credentials: the certificate the handshake
// verified names a Consumer, by its SHA-256 fingerprint or its subject DN. Only a certificate the
// listener verified against its client CA (node's `socket.authorized`) counts: a listener that asks
// for certificates without validating them (a name on the bind with no CA) would otherwise let any
// self-signed certificate claim any subject. The lookup is by Map: a fingerprint or a subject is
// public (every handshake shows it), so its comparison time reveals nothing worth hiding.
import type { IrClientCertificateMethod, IrConsumer } from '../../../ir/apim.js';
import { ABSENT, type AuthnVerdict, type CompiledAuthnMethod } from './authn-method.js';
import { quoted } from './challenge.js';

/** Upper-case hex pairs joined by `:`, however the fingerprint was written (lower case, no colons). */
export function normalizeFingerprint(value: string): string {
  const hex = value.replace(/[^0-9a-fA-F]/g, '').toUpperCase();
  return hex.replace(/(..)(?!$)/g, '$1:');
}

export function compileClientCertificate(method: IrClientCertificateMethod, realm: string): CompiledAuthnMethod {
  const byFingerprint = new Map<string, IrConsumer>();
  for (const f of method.fingerprints) {
    const key = normalizeFingerprint(f.sha256);
    if (!byFingerprint.has(key)) byFingerprint.set(key, f.consumer);
  }
  const bySubject = new Map<string, IrConsumer>();
  for (const s of method.subjects) if (!bySubject.has(s.subject)) bySubject.set(s.subject, s.consumer);
  // No registered scheme names TLS client certificates; like `ApiKey`, this one follows the
  // auth-scheme syntax of RFC 9110 §11.1 so a client sees that a certificate is a way in.
  const challenge = `ClientCertificate realm=${quoted(realm)}`;

  return {
    challenge: () => challenge,
    authenticate(ctx): AuthnVerdict {
      const cert = ctx.peerCertificate;
      if (cert === undefined) return ABSENT;
      if (!cert.authorized) return { kind: 'rejected', description: 'client certificate not verified' };
      // The fingerprint first: it names exactly one certificate, a subject any the CA issues with it.
      const consumer = byFingerprint.get(cert.sha256Fingerprint) ?? bySubject.get(cert.subject);
      return consumer === undefined ? { kind: 'rejected', description: 'unknown client certificate' } : { kind: 'authenticated', consumer };
    },
  };
}

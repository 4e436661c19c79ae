// SNI → certificate (and client-certificate validation), compiled at apply time. Secure contexts
// are cached by content, so a reload that keeps a certificate does not rebuild (or re-parse) it.
import tls from 'node:tls';
import { createHash } from 'node:crypto';
import type { IrCertificate, IrClientValidation } from '../../ir/types.js';

/** A certificate as one listener serves it: with the listener's client validation, if any. */
export interface SniCertificate {
  readonly certificate: IrCertificate;
  readonly clientValidation?: IrClientValidation;
}

/** What a server name gets: its context (certificate, and CA when clients must prove who they are). */
export interface SniEntry {
  readonly context: tls.SecureContext;
  readonly certificate: IrCertificate;
  readonly clientValidation?: IrClientValidation;
}

export class SniTable {
  private readonly exact = new Map<string, SniEntry>();
  private readonly wildcard = new Map<string, SniEntry>();
  readonly defaultEntry: SniEntry | undefined;
  /** Some name on this bind asks for a client certificate: the bind requests one in every handshake. */
  readonly requestsClientCertificates: boolean;
  /** Every name (and the default) requires a valid one: the handshake itself can refuse a client without. */
  readonly requiresClientCertificates: boolean;

  constructor(certificates: readonly SniCertificate[], cache: SecureContextCache) {
    const entries = certificates.map((c): SniEntry => ({ context: cache.get(c.certificate, c.clientValidation), certificate: c.certificate, ...(c.clientValidation ? { clientValidation: c.clientValidation } : {}) }));
    this.defaultEntry = entries[0];
    this.requestsClientCertificates = entries.some((e) => e.clientValidation !== undefined);
    this.requiresClientCertificates = entries.length > 0 && entries.every((e) => e.clientValidation?.mode === 'allow-valid-only');
    for (const entry of entries) {
      for (const raw of entry.certificate.serverNames) {
        const name = raw.toLowerCase();
        if (name.startsWith('*.')) {
          if (!this.wildcard.has(name.slice(2))) this.wildcard.set(name.slice(2), entry);
        } else if (!this.exact.has(name)) {
          this.exact.set(name, entry);
        }
      }
    }
  }

  get defaultCertificate(): IrCertificate | undefined {
    return this.defaultEntry?.certificate;
  }

  /** The context for a server name, or undefined to use the listener's default certificate. */
  select(serverName: string): tls.SecureContext | undefined {
    return this.lookup(serverName)?.context;
  }

  /** The context a handshake for this name ends with: its own, or the default one. */
  served(serverName: string): tls.SecureContext | undefined {
    return (this.lookup(serverName) ?? this.defaultEntry)?.context;
  }

  /** The entry a handshake with this SNI (none: the default) was served by. */
  entryFor(serverName: string | false | undefined | null): SniEntry | undefined {
    return (typeof serverName === 'string' && serverName !== '' ? this.lookup(serverName) : undefined) ?? this.defaultEntry;
  }

  private lookup(serverName: string): SniEntry | undefined {
    const name = serverName.toLowerCase();
    const exact = this.exact.get(name);
    if (exact !== undefined) return exact;
    const dot = name.indexOf('.');
    return dot > 0 ? this.wildcard.get(name.slice(dot + 1)) : undefined;
  }
}

export class SecureContextCache {
  private entries = new Map<string, tls.SecureContext>();
  private used = new Set<string>();

  get(cert: IrCertificate, clientValidation?: IrClientValidation): tls.SecureContext {
    const hash = createHash('sha256').update(cert.certPem).update('\0').update(cert.keyPem);
    if (clientValidation !== undefined) hash.update('\0').update(clientValidation.caPem);
    const key = hash.digest('hex');
    this.used.add(key);
    let ctx = this.entries.get(key);
    if (ctx === undefined) {
      // With a CA, OpenSSL verifies the client's chain against this context's store (the one the
      // SNI callback switched to) and names these CAs in its CertificateRequest.
      ctx = tls.createSecureContext({ cert: cert.certPem, key: cert.keyPem, ...(clientValidation ? { ca: clientValidation.caPem } : {}) });
      this.entries.set(key, ctx);
    }
    return ctx;
  }

  /** Forget contexts no certificate used since the last sweep (called after an apply). */
  sweep(): void {
    for (const key of this.entries.keys()) if (!this.used.has(key)) this.entries.delete(key);
    this.used = new Set();
  }
}

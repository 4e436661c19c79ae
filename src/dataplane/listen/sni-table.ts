// SNI → certificate, compiled at apply time. Secure contexts are cached by content, so a reload
// that keeps a certificate does not rebuild (or re-parse) it.
import tls from 'node:tls';
import { createHash } from 'node:crypto';
import type { IrCertificate } from '../../ir/types.js';

export class SniTable {
  private readonly exact = new Map<string, tls.SecureContext>();
  private readonly wildcard = new Map<string, tls.SecureContext>();
  readonly defaultCertificate: IrCertificate | undefined;
  private readonly defaultContext: tls.SecureContext | undefined;

  constructor(certificates: readonly IrCertificate[], cache: SecureContextCache) {
    this.defaultCertificate = certificates[0];
    this.defaultContext = certificates[0] === undefined ? undefined : cache.get(certificates[0]);
    for (const cert of certificates) {
      const ctx = cache.get(cert);
      for (const raw of cert.serverNames) {
        const name = raw.toLowerCase();
        if (name.startsWith('*.')) {
          if (!this.wildcard.has(name.slice(2))) this.wildcard.set(name.slice(2), ctx);
        } else if (!this.exact.has(name)) {
          this.exact.set(name, ctx);
        }
      }
    }
  }

  /** The context for a server name, or undefined to use the listener's default certificate. */
  select(serverName: string): tls.SecureContext | undefined {
    const name = serverName.toLowerCase();
    const exact = this.exact.get(name);
    if (exact !== undefined) return exact;
    const dot = name.indexOf('.');
    return dot > 0 ? this.wildcard.get(name.slice(dot + 1)) : undefined;
  }

  /** The context a handshake for this name ends with: its own, or the default one. */
  served(serverName: string): tls.SecureContext | undefined {
    return this.select(serverName) ?? this.defaultContext;
  }
}

export class SecureContextCache {
  private entries = new Map<string, tls.SecureContext>();
  private used = new Set<string>();

  get(cert: IrCertificate): tls.SecureContext {
    const key = createHash('sha256').update(cert.certPem).update('\0').update(cert.keyPem).digest('hex');
    this.used.add(key);
    let ctx = this.entries.get(key);
    if (ctx === undefined) {
      ctx = tls.createSecureContext({ cert: cert.certPem, key: cert.keyPem });
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

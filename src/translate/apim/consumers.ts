// Consumers (isthmus.dev/v1alpha1) → the identities authentication methods recognise, per
// namespace: API key hashes, JWT subjects and Basic users, each with its IrConsumer. Read once per
// snapshot; a policy uses the Consumers of its own namespace. Secrets are read here, so the IR
// carries hashes only: an API key Secret holds `sha256` (lower-case hex of the key: `isthmus keys
// create` writes it), a Basic Secret holds `htpasswd` (bcrypt lines). Older Consumers keep a
// key, user or subject that a newer one claims too. Pure: no I/O, no clock.
import type { Diagnostic } from '../../core/diagnostic.js';
import type { IrConsumer } from '../../ir/apim.js';
import { refOf, type Consumer, type Plan } from '../../resources/resource.js';
import { readSecretValue } from '../../resources/well-known.js';
import { namespacedKey, type ResourceIndex } from '../../store/resource-index.js';
import { compareByCreation } from '../../resources/creation-order.js';
import { parseHtpasswd } from './htpasswd.js';

/** The label `isthmus keys create` puts on a key Secret: the Consumer it belongs to. */
export const CONSUMER_LABEL = 'isthmus.dev/consumer';
export const API_KEY_SECRET_KEY = 'sha256';
export const HTPASSWD_SECRET_KEY = 'htpasswd';

const SHA256_HEX = /^[0-9a-f]{64}$/;

export interface NamespaceConsumers {
  readonly apiKeys: readonly { readonly sha256: string; readonly consumer: IrConsumer }[];
  readonly jwtSubjects: Readonly<Record<string, IrConsumer>>;
  readonly basicUsers: readonly { readonly user: string; readonly bcrypt: string; readonly consumer: IrConsumer }[];
  /** Client certificates by SHA-256 fingerprint (upper-case hex pairs, `:`-joined) and by subject DN. */
  readonly certificates?: {
    readonly fingerprints: readonly { readonly sha256: string; readonly consumer: IrConsumer }[];
    readonly subjects: readonly { readonly subject: string; readonly consumer: IrConsumer }[];
  };
}

export interface ConsumerDirectory {
  inNamespace(namespace: string): NamespaceConsumers;
  /** `ns/name` of a Plan → the Plan. */
  plan(key: string): Plan | undefined;
}

const EMPTY: NamespaceConsumers = { apiKeys: [], jwtSubjects: {}, basicUsers: [] };

function nsOf(o: { readonly metadata: { readonly namespace?: string } }): string {
  return o.metadata.namespace ?? 'default';
}

export function resolveConsumers(index: ResourceIndex, diagnostics: Diagnostic[]): ConsumerDirectory {
  const byNamespace = new Map<string, { apiKeys: NamespaceConsumers['apiKeys'][number][]; jwtSubjects: Record<string, IrConsumer>; basicUsers: NamespaceConsumers['basicUsers'][number][]; certificates: { fingerprints: { sha256: string; consumer: IrConsumer }[]; subjects: { subject: string; consumer: IrConsumer }[] } }>();
  const claimedBy = new Map<string, string>();
  for (const consumer of [...index.consumers.values()].sort(compareByCreation)) {
    const namespace = nsOf(consumer);
    const name = `${namespace}/${consumer.metadata.name}`;
    const report = (severity: Diagnostic['severity'], code: Diagnostic['code'], path: string, message: string): void => {
      diagnostics.push({ severity, code, object: refOf(consumer), source: consumer.source, path, message });
    };
    let planName: string | undefined;
    if (consumer.spec.plan !== undefined) {
      if (index.plans.has(namespacedKey(namespace, consumer.spec.plan))) planName = `${namespace}/${consumer.spec.plan}`;
      else report('warning', 'ERR_CONSUMER_PLAN_NOT_FOUND', 'spec.plan', `Plan "${consumer.spec.plan}" not found in namespace "${namespace}"; no Plan limits count this Consumer's requests`);
    }
    const ir: IrConsumer = { name, groups: [...(consumer.spec.groups ?? [])], ...(planName !== undefined ? { plan: planName } : {}) };
    let entry = byNamespace.get(namespace);
    if (entry === undefined) byNamespace.set(namespace, (entry = { apiKeys: [], jwtSubjects: {}, basicUsers: [], certificates: { fingerprints: [], subjects: [] } }));
    /** First claim wins: false (and a diagnostic) when an older Consumer holds `what` already. */
    const claim = (kind: string, value: string, path: string, what: string): boolean => {
      const key = `${namespace}\n${kind}\n${value}`;
      const holder = claimedBy.get(key);
      if (holder === undefined) {
        claimedBy.set(key, name);
        return true;
      }
      if (holder !== name) report('error', 'ERR_CONSUMER_CREDENTIAL_INVALID', path, `${what} already identifies the older Consumer ${holder}; here it identifies nobody`);
      return false;
    };

    (consumer.spec.apiKeys ?? []).forEach((k, i) => {
      const path = `spec.apiKeys[${i}].secretRef`;
      const sha256 = readApiKeyHash(consumer, k.secretRef.name, index, (message) => report('error', 'ERR_CONSUMER_CREDENTIAL_INVALID', path, message), (message) => report('warning', 'ERR_CONSUMER_CREDENTIAL_INVALID', path, message));
      if (sha256 !== undefined && claim('key', sha256, path, `the API key in Secret "${k.secretRef.name}"`)) entry.apiKeys.push({ sha256, consumer: ir });
    });
    (consumer.spec.jwtSubjects ?? []).forEach((subject, i) => {
      if (claim('sub', subject, `spec.jwtSubjects[${i}]`, `JWT subject "${subject}"`)) entry.jwtSubjects[subject] = ir;
    });
    (consumer.spec.clientCertificates ?? []).forEach((c, i) => {
      const path = `spec.clientCertificates[${i}]`;
      const cert = readClientCertificate(c);
      if (cert.kind === 'invalid') report('error', 'ERR_CONSUMER_CREDENTIAL_INVALID', path, `${cert.message}; this entry identifies nobody`);
      else if (cert.kind === 'fingerprint') {
        if (claim('cert-sha256', cert.sha256, path, `client certificate fingerprint ${cert.sha256}`)) entry.certificates.fingerprints.push({ sha256: cert.sha256, consumer: ir });
      } else if (claim('cert-subject', cert.subject, path, `client certificate subject "${cert.subject}"`)) entry.certificates.subjects.push({ subject: cert.subject, consumer: ir });
    });
    const basic = consumer.spec.basicAuth;
    if (basic !== undefined) {
      const path = 'spec.basicAuth.secretRef';
      const secret = index.secrets.get(namespacedKey(namespace, basic.secretRef.name));
      const text = secret === undefined ? undefined : readSecretValue(secret, HTPASSWD_SECRET_KEY)?.toString('utf8');
      if (secret === undefined) report('error', 'ERR_CONSUMER_CREDENTIAL_INVALID', path, `Secret "${basic.secretRef.name}" not found in namespace "${namespace}"; no Basic user identifies this Consumer`);
      else if (text === undefined) report('error', 'ERR_CONSUMER_CREDENTIAL_INVALID', path, `Secret "${basic.secretRef.name}" has no "${HTPASSWD_SECRET_KEY}" key (keys: ${Object.keys({ ...secret.data, ...secret.stringData }).sort().join(', ') || 'none'})`);
      else {
        const parsed = parseHtpasswd(text);
        for (const p of parsed.problems) report('error', 'ERR_CONSUMER_CREDENTIAL_INVALID', path, `Secret "${basic.secretRef.name}" htpasswd line ${p.line}: ${p.message}; that line is not used`);
        for (const u of parsed.users) {
          if (claim('user', u.user, path, `Basic user "${u.user}"`)) entry.basicUsers.push({ ...u, consumer: ir });
        }
      }
    }
  }
  for (const entry of byNamespace.values()) {
    entry.apiKeys.sort((a, b) => (a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : 0));
    entry.basicUsers.sort((a, b) => (a.user < b.user ? -1 : a.user > b.user ? 1 : 0));
  }
  return {
    inNamespace: (namespace) => byNamespace.get(namespace) ?? EMPTY,
    plan: (key) => index.plans.get(key),
  };
}

/** The `sha256` of an API key Secret, lower case; undefined (and an error) when it cannot be used. */
function readApiKeyHash(consumer: Consumer, secretName: string, index: ResourceIndex, error: (message: string) => void, warn: (message: string) => void): string | undefined {
  const namespace = nsOf(consumer);
  const secret = index.secrets.get(namespacedKey(namespace, secretName));
  if (secret === undefined) {
    error(`Secret "${secretName}" not found in namespace "${namespace}"; this API key identifies nobody`);
    return undefined;
  }
  const raw = readSecretValue(secret, API_KEY_SECRET_KEY)?.toString('utf8').trim();
  if (raw === undefined) {
    error(`Secret "${secretName}" has no "${API_KEY_SECRET_KEY}" key (the lower-case hex SHA-256 of the API key); this API key identifies nobody`);
    return undefined;
  }
  const hex = raw.toLowerCase();
  if (!SHA256_HEX.test(hex)) {
    error(`Secret "${secretName}" "${API_KEY_SECRET_KEY}": expected 64 hex characters (the SHA-256 of the key, not the key itself), found ${raw.length} characters${/^[0-9a-fA-F]*$/.test(raw) ? '' : ' that are not all hex'}; this API key identifies nobody`);
    return undefined;
  }
  const owner = secret.metadata.labels[CONSUMER_LABEL];
  if (owner !== undefined && owner !== consumer.metadata.name) warn(`Secret "${secretName}" is labelled ${CONSUMER_LABEL}: ${owner}, not "${consumer.metadata.name}"; it is used for this Consumer as spec.apiKeys says`);
  return hex;
}

type ClientCertificateEntry = { readonly kind: 'fingerprint'; readonly sha256: string } | { readonly kind: 'subject'; readonly subject: string } | { readonly kind: 'invalid'; readonly message: string };

/**
 * One `clientCertificates` entry: a SHA-256 fingerprint (64 hex digits, with or without colons,
 * either case; kept as node and openssl print it, `AB:CD:...`) or a subject DN, exactly one (a CEL
 * rule of the CRD, checked here).
 */
export function readClientCertificate(c: { readonly sha256Fingerprint?: string; readonly subject?: string }): ClientCertificateEntry {
  if ((c.sha256Fingerprint === undefined) === (c.subject === undefined)) return { kind: 'invalid', message: `expected exactly one of sha256Fingerprint and subject, found ${c.subject === undefined ? 'neither' : 'both'}` };
  if (c.subject !== undefined) return { kind: 'subject', subject: c.subject };
  const hex = c.sha256Fingerprint!.replace(/:/g, '');
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return { kind: 'invalid', message: `sha256Fingerprint: expected 64 hex digits (colons allowed), found "${c.sha256Fingerprint}"` };
  return { kind: 'fingerprint', sha256: hex.toUpperCase().replace(/(..)(?!$)/g, '$1:') };
}

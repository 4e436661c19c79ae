// Upstream TLS of a Service's TLS ports (appProtocol `https`), from its annotations and a CA Secret
// in its namespace. Verification is the default; switching it off takes an explicit annotation and
// shows up as a warning. A setting that cannot be used makes the port unusable (its routes answer
// 503) rather than quietly reachable without verification.
import { isIP } from 'node:net';
import type { Diagnostic } from '../../core/diagnostic.js';
import type { IrUpstreamTls } from '../../ir/types.js';
import { refOf, type Service } from '../../resources/resource.js';
import { readSecretValue, TLS_SECRET_TYPE } from '../../resources/well-known.js';
import { CA_BUNDLE_KEY, parseCaBundle } from './ca-bundle.js';
import { formatFieldPath } from '../../resources/schema-issue.js';
import { namespacedKey, type ResourceIndex } from '../../store/resource-index.js';

export const UPSTREAM_CA_SECRET_ANNOTATION = 'isthmus.dev/upstream-ca-secret';
export const UPSTREAM_SERVER_NAME_ANNOTATION = 'isthmus.dev/upstream-server-name';
export const UPSTREAM_INSECURE_SKIP_VERIFY_ANNOTATION = 'isthmus.dev/upstream-insecure-skip-verify';
export const UPSTREAM_TLS_ANNOTATIONS = [UPSTREAM_CA_SECRET_ANNOTATION, UPSTREAM_SERVER_NAME_ANNOTATION, UPSTREAM_INSECURE_SKIP_VERIFY_ANNOTATION] as const;

export { CA_BUNDLE_KEY } from './ca-bundle.js';
export const CA_SECRET_TYPES: readonly string[] = ['Opaque', TLS_SECRET_TYPE];

export type UpstreamTlsResolution = { readonly kind: 'ok'; readonly tls: IrUpstreamTls } | { readonly kind: 'invalid' };

/**
 * The name a cluster-internal certificate for the Service is issued for: `<service>.<namespace>.svc`
 * (cert-manager's and Kubernetes' CSR convention; `.svc` rather than `.svc.cluster.local` because the
 * cluster domain is configurable and certificates carry the short form too). An ExternalName
 * Service is reached under its external name, so that is what its certificate names.
 */
export function defaultUpstreamServerName(service: Service, namespace: string): string {
  const external = service.spec.type === 'ExternalName' ? service.spec.externalName : undefined;
  if (external !== undefined) return external.toLowerCase().replace(/\.$/, '');
  return `${service.metadata.name}.${namespace}.svc`;
}

/** A lower-case RFC 1123 DNS name (no wildcard: SNI names one host), not an IP address (RFC 6066 §3). */
function isDnsName(value: string): boolean {
  if (value.length > 253 || isIP(value) !== 0) return false;
  return value.split('.').every((label) => /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(label));
}

/**
 * The IR TLS policy of the Service's TLS ports, with its diagnostics (pushed once per Service: the
 * caller caches the result). `invalid` means at least one error was reported on the Service.
 */
export function readUpstreamTls(service: Service, namespace: string, index: ResourceIndex, diagnostics: Diagnostic[]): UpstreamTlsResolution {
  const annotations = service.metadata.annotations;
  const report = (severity: Diagnostic['severity'], code: Diagnostic['code'], annotation: string, message: string): void => {
    diagnostics.push({ severity, code, object: refOf(service), source: service.source, path: formatFieldPath(['metadata', 'annotations', annotation]), message });
  };
  const unusable = 'its TLS ports answer 503 (never reached unverified)';
  let usable = true;

  let serverName = defaultUpstreamServerName(service, namespace);
  const nameValue = annotations[UPSTREAM_SERVER_NAME_ANNOTATION];
  if (nameValue !== undefined) {
    if (isDnsName(nameValue)) serverName = nameValue;
    else {
      report('error', 'ERR_BACKEND_TLS_INVALID', UPSTREAM_SERVER_NAME_ANNOTATION, `expected a lower-case DNS name (no wildcard, no IP address), found "${nameValue}"; ${unusable}`);
      usable = false;
    }
  }

  const skipValue = annotations[UPSTREAM_INSECURE_SKIP_VERIFY_ANNOTATION];
  if (skipValue !== undefined && skipValue !== 'true' && skipValue !== 'false') {
    report('error', 'ERR_BACKEND_TLS_INVALID', UPSTREAM_INSECURE_SKIP_VERIFY_ANNOTATION, `expected "true" or "false", found "${skipValue}"; ${unusable}`);
    return { kind: 'invalid' };
  }
  const secretName = annotations[UPSTREAM_CA_SECRET_ANNOTATION];
  if (skipValue === 'true') {
    const ignored = secretName === undefined ? '' : `; ${UPSTREAM_CA_SECRET_ANNOTATION} is ignored`;
    report('warning', 'ERR_BACKEND_TLS_UNVERIFIED', UPSTREAM_INSECURE_SKIP_VERIFY_ANNOTATION, `the certificates of this Service's TLS ports are not verified: encrypted, but anyone on the path can pose as the backend${ignored}`);
    return usable ? { kind: 'ok', tls: { serverName, verification: { kind: 'insecure-skip-verify' } } } : { kind: 'invalid' };
  }

  let caPem: string | undefined;
  if (secretName !== undefined) {
    const problem = (message: string): void => {
      report('error', 'ERR_BACKEND_TLS_INVALID', UPSTREAM_CA_SECRET_ANNOTATION, `${message}; ${unusable}`);
      usable = false;
    };
    const expected = `a Secret of type Opaque or ${TLS_SECRET_TYPE} with a PEM CA bundle in data["${CA_BUNDLE_KEY}"]`;
    const secret = secretName === '' ? undefined : index.secrets.get(namespacedKey(namespace, secretName));
    const value = secret === undefined ? undefined : readSecretValue(secret, CA_BUNDLE_KEY);
    if (secret === undefined) problem(`Secret "${secretName}" not found in namespace "${namespace}"; expected ${expected}`);
    else if (!CA_SECRET_TYPES.includes(secret.type)) problem(`Secret "${secretName}" has type "${secret.type}"; expected ${expected}`);
    else if (value === undefined || value.length === 0) {
      const keys = [...new Set([...Object.keys(secret.data), ...Object.keys(secret.stringData)])].sort();
      problem(`Secret "${secretName}" has no data["${CA_BUNDLE_KEY}"] (${keys.length === 0 ? 'it has no keys' : `keys: ${keys.join(', ')}`}); expected ${expected}`);
    } else {
      const bundle = parseCaBundle(value, `Secret "${secretName}" data["${CA_BUNDLE_KEY}"]`);
      if (bundle.kind === 'invalid') problem(bundle.message);
      else {
        caPem = bundle.pem;
        if (bundle.ignored.length > 0) {
          report('warning', 'ERR_RESOURCE_INVALID', UPSTREAM_CA_SECRET_ANNOTATION, `Secret "${secretName}" data["${CA_BUNDLE_KEY}"] also holds ${bundle.ignored.join(', ')} blocks; only its certificates are used`);
        }
      }
    }
  }
  if (!usable) return { kind: 'invalid' };
  return { kind: 'ok', tls: { serverName, verification: caPem === undefined ? { kind: 'verify' } : { kind: 'verify', caPem } } };
}

/** Names of the upstream TLS annotations the Service carries (to warn when none of its ports uses them). */
export function upstreamTlsAnnotationsOf(service: Service): string[] {
  return UPSTREAM_TLS_ANNOTATIONS.filter((a) => service.metadata.annotations[a] !== undefined);
}

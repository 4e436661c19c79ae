// Gateway API CA certificate references (BackendTLSPolicy `validation.caCertificateRefs`, Gateway
// `tls.frontend` validation): a core ConfigMap (Core support) or Secret (implementation-specific
// here: Opaque or kubernetes.io/tls, as the Ingress annotation reads) with a PEM bundle in `ca.crt`.
import { configMapKeys, readConfigMapValue } from '../../resources/well-known.js';
import { readSecretValue } from '../../resources/well-known.js';
import { namespacedKey, type ResourceIndex } from '../../store/resource-index.js';
import { CA_BUNDLE_KEY, parseCaBundle } from '../services/ca-bundle.js';
import { CA_SECRET_TYPES } from '../services/upstream-tls-annotations.js';

export interface CaCertificateRef {
  readonly group?: string;
  readonly kind: string;
  readonly name: string;
}

export type CaRefResolution =
  | { readonly kind: 'ok'; readonly pem: string; readonly ignored: readonly string[] }
  /** Gateway API reason `InvalidKind` (`InvalidCACertificateKind` on listeners). */
  | { readonly kind: 'invalid-kind'; readonly message: string }
  /** Gateway API reason `InvalidCACertificateRef`. */
  | { readonly kind: 'invalid-ref'; readonly message: string };

const EXPECTED = `a ConfigMap (or a Secret of type Opaque or kubernetes.io/tls) with a PEM CA bundle in "${CA_BUNDLE_KEY}"`;

/** Reads one reference in `namespace` (CA references are local: no ReferenceGrant is consulted). */
export function resolveCaCertificateRef(ref: CaCertificateRef, namespace: string, index: ResourceIndex): CaRefResolution {
  const group = ref.group ?? '';
  if (group !== '' || (ref.kind !== 'ConfigMap' && ref.kind !== 'Secret')) {
    return { kind: 'invalid-kind', message: `kind ${group === '' ? 'core' : group}/${ref.kind} is not supported; expected ${EXPECTED}` };
  }
  const key = namespacedKey(namespace, ref.name);
  let value: Buffer | undefined;
  if (ref.kind === 'ConfigMap') {
    const configMap = index.configMaps.get(key);
    if (configMap === undefined) return { kind: 'invalid-ref', message: `ConfigMap "${ref.name}" not found in namespace "${namespace}"; expected ${EXPECTED}` };
    value = readConfigMapValue(configMap, CA_BUNDLE_KEY);
    if (value === undefined || value.length === 0) {
      const keys = configMapKeys(configMap);
      return { kind: 'invalid-ref', message: `ConfigMap "${ref.name}" has no "${CA_BUNDLE_KEY}" (${keys.length === 0 ? 'it has no keys' : `keys: ${keys.join(', ')}`})` };
    }
  } else {
    const secret = index.secrets.get(key);
    if (secret === undefined) return { kind: 'invalid-ref', message: `Secret "${ref.name}" not found in namespace "${namespace}"; expected ${EXPECTED}` };
    if (!CA_SECRET_TYPES.includes(secret.type)) return { kind: 'invalid-ref', message: `Secret "${ref.name}" has type "${secret.type}"; expected Opaque or kubernetes.io/tls` };
    value = readSecretValue(secret, CA_BUNDLE_KEY);
    if (value === undefined || value.length === 0) {
      const keys = [...new Set([...Object.keys(secret.data), ...Object.keys(secret.stringData)])].sort();
      return { kind: 'invalid-ref', message: `Secret "${ref.name}" has no data["${CA_BUNDLE_KEY}"] (${keys.length === 0 ? 'it has no keys' : `keys: ${keys.join(', ')}`})` };
    }
  }
  const bundle = parseCaBundle(value, `${ref.kind} "${ref.name}" "${CA_BUNDLE_KEY}"`);
  return bundle.kind === 'ok' ? bundle : { kind: 'invalid-ref', message: bundle.message };
}

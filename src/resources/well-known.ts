// Names Kubernetes and Istio define, and readers of parsed objects, without the schemas: the
// translators and the store run on the main thread and need these, while the zod schemas (14 MB
// of RSS) are only needed where files are parsed, in the parse worker.

/** The parts of a parsed Secret, ConfigMap and IngressClass these readers use (structural, so this module imports no kind). */
type SecretData = { readonly stringData: Readonly<Record<string, string>>; readonly data: Readonly<Record<string, string>> };
type ConfigMapData = { readonly data: Readonly<Record<string, string>>; readonly binaryData: Readonly<Record<string, string>> };
type Annotated = { readonly metadata: { readonly annotations: Readonly<Record<string, string>> } };

export const TLS_SECRET_TYPE = 'kubernetes.io/tls';
export const INGRESS_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';
export const DEFAULT_INGRESS_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export const ISTIO_VERSIONS = ['networking.istio.io/v1', 'networking.istio.io/v1beta1', 'networking.istio.io/v1alpha3'] as const;
export type IstioApiVersion = (typeof ISTIO_VERSIONS)[number];

export function isIstioApiVersion(apiVersion: string): apiVersion is IstioApiVersion {
  return (ISTIO_VERSIONS as readonly string[]).includes(apiVersion);
}

/** A Secret value as bytes: `stringData` (plain) wins over `data` (base64), as the API server merges them. */
export function readSecretValue(secret: SecretData, key: string): Buffer | undefined {
  const plain = secret.stringData[key];
  if (plain !== undefined) return Buffer.from(plain, 'utf8');
  const encoded = secret.data[key];
  return encoded === undefined ? undefined : Buffer.from(encoded, 'base64');
}

/** A ConfigMap value as bytes, from `data` (text) or `binaryData` (base64). */
export function readConfigMapValue(configMap: ConfigMapData, key: string): Buffer | undefined {
  const text = configMap.data[key];
  if (text !== undefined) return Buffer.from(text, 'utf8');
  const encoded = configMap.binaryData[key];
  return encoded === undefined ? undefined : Buffer.from(encoded, 'base64');
}

/** Keys of both maps, sorted (for messages that say what was found). */
export function configMapKeys(configMap: ConfigMapData): string[] {
  return [...new Set([...Object.keys(configMap.data), ...Object.keys(configMap.binaryData)])].sort();
}

export function isDefaultIngressClass(ingressClass: Annotated): boolean {
  return ingressClass.metadata.annotations[DEFAULT_INGRESS_CLASS_ANNOTATION] === 'true';
}

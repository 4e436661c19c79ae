// Istio's mesh config, as far as external authorization needs it: the `extensionProviders` that a
// CUSTOM AuthorizationPolicy names by `provider.name`. Istio keeps the mesh config as YAML under
// the key `mesh` of the ConfigMap `istio` in `istio-system`; this reads it from the snapshot like
// any other object. Only `envoyExtAuthzHttp` providers can be called (the HTTP flavour of Envoy's
// ext_authz); a gRPC one is known but unusable, so policies naming it fail closed.
// Field meanings follow istio.mesh.v1alpha1 MeshConfig.ExtensionProvider.EnvoyExternalAuthorizationHttpProvider:
//   service         `[<namespace>/]<hostname>`; the gateway resolves the hostname by DNS when it
//                   connects (the cluster DNS in Kubernetes), not through its service registry
//   port            required
//   timeout         default 600s (Istio's)
//   pathPrefix      prepended to the request's path
//   failOpen        a failed check (no answer, a 5xx) lets the request on; default false
//   statusOnError   the status of a failed check when not failing open; default "403"
//   includeRequestHeadersInCheck (and the deprecated includeHeadersInCheck), includeAdditionalHeadersInCheck,
//   headersToUpstreamOnAllow, headersToDownstreamOnDeny
// Pure: no I/O (the YAML is parsed here, from the snapshot's text).
import { CORE_SCHEMA, load } from 'js-yaml';
import type { Diagnostic } from '../../core/diagnostic.js';
import type { IrExtAuthService } from '../../ir/apim.js';
import { refOf } from '../../resources/resource.js';
import { namespacedKey, type ResourceIndex } from '../../store/resource-index.js';
import { parseTimeoutMs } from './external-auth.js';

export const MESH_CONFIG_NAMESPACE = 'istio-system';
export const MESH_CONFIG_NAME = 'istio';
export const MESH_CONFIG_KEY = 'mesh';
/** Istio's default timeout for an ext_authz provider. */
export const ISTIO_EXT_AUTH_TIMEOUT_MS = 600_000;
/** Istio's default `statusOnError`. */
export const ISTIO_STATUS_ON_ERROR = 403;

export type ExtensionProvider =
  | { readonly kind: 'http'; readonly service: IrExtAuthService }
  /** Named in the mesh config but not callable here: requests its policies match are denied. */
  | { readonly kind: 'unusable'; readonly reason: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringList(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
}

/** The extension providers of the mesh config, by name; empty when there is no mesh config. */
export function readExtensionProviders(index: ResourceIndex, diagnostics: Diagnostic[]): ReadonlyMap<string, ExtensionProvider> {
  const providers = new Map<string, ExtensionProvider>();
  const configMap = index.configMaps.get(namespacedKey(MESH_CONFIG_NAMESPACE, MESH_CONFIG_NAME));
  const text = configMap?.data[MESH_CONFIG_KEY];
  if (configMap === undefined || text === undefined) return providers;
  const report = (path: string, message: string, severity: Diagnostic['severity'] = 'error'): void => {
    diagnostics.push({ severity, code: 'ERR_MESH_CONFIG_INVALID', object: refOf(configMap), source: configMap.source, path: `data.${MESH_CONFIG_KEY}${path}`, message });
  };
  let mesh: unknown;
  try {
    mesh = load(text, { schema: CORE_SCHEMA });
  } catch (err) {
    report('', `not valid YAML (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); no extension provider is known`);
    return providers;
  }
  if (mesh === undefined || mesh === null) return providers;
  if (!isRecord(mesh)) {
    report('', 'expected a mapping (MeshConfig); no extension provider is known');
    return providers;
  }
  const list = mesh['extensionProviders'];
  if (list === undefined) return providers;
  if (!Array.isArray(list)) {
    report('.extensionProviders', 'expected a list; no extension provider is known');
    return providers;
  }
  list.forEach((entry: unknown, i) => {
    const at = `.extensionProviders[${i}]`;
    if (!isRecord(entry) || typeof entry['name'] !== 'string' || entry['name'] === '') return report(at, 'expected a mapping with a name; left out');
    const name = entry['name'];
    if (providers.has(name)) return report(`${at}.name`, `provider "${name}" is defined twice; the first definition is used`);
    const http = entry['envoyExtAuthzHttp'];
    if (http === undefined) {
      // Tracing, logging and gRPC ext_authz providers: a CUSTOM policy naming one cannot be honoured.
      const kind = Object.keys(entry).find((k) => k !== 'name') ?? 'none';
      providers.set(name, { kind: 'unusable', reason: `provider "${name}" is ${kind}, not envoyExtAuthzHttp` });
      return;
    }
    const provider = readHttpProvider(http, `${at}.envoyExtAuthzHttp`, report);
    providers.set(name, provider.kind === 'ok' ? { kind: 'http', service: provider.service } : { kind: 'unusable', reason: `provider "${name}": ${provider.reason}` });
  });
  return providers;
}

type Report = (path: string, message: string, severity?: Diagnostic['severity']) => void;

function readHttpProvider(http: unknown, at: string, report: Report): { kind: 'ok'; service: IrExtAuthService } | { kind: 'invalid'; reason: string } {
  const invalid = (path: string, message: string): { kind: 'invalid'; reason: string } => {
    report(`${at}${path}`, `${message}; requests of the policies naming this provider are denied`);
    return { kind: 'invalid', reason: message };
  };
  if (!isRecord(http)) return invalid('', 'expected a mapping');
  const serviceField = http['service'];
  if (typeof serviceField !== 'string' || serviceField === '') return invalid('.service', 'expected [<namespace>/]<hostname>');
  // `bar/ext-authz.example.com`: the namespace only disambiguates Istio's registry; DNS needs the host.
  const host = serviceField.includes('/') ? serviceField.slice(serviceField.indexOf('/') + 1) : serviceField;
  const portField = http['port'];
  const port = typeof portField === 'number' ? portField : typeof portField === 'string' && /^[0-9]+$/.test(portField) ? Number(portField) : NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return invalid('.port', `expected a port number, found ${JSON.stringify(portField)}`);
  const pathPrefix = http['pathPrefix'];
  if (pathPrefix !== undefined && (typeof pathPrefix !== 'string' || (pathPrefix !== '' && !pathPrefix.startsWith('/')))) return invalid('.pathPrefix', `expected a path starting with /, found ${JSON.stringify(pathPrefix)}`);
  let url: string;
  try {
    const u = new URL(`http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`);
    url = u.origin + ((pathPrefix as string | undefined) ?? '');
  } catch {
    return invalid('.service', `"${serviceField}" is not a host name`);
  }
  let timeoutMs = ISTIO_EXT_AUTH_TIMEOUT_MS;
  if (http['timeout'] !== undefined) {
    const t = typeof http['timeout'] === 'string' ? parseTimeoutMs(http['timeout']) : undefined;
    if (t === undefined) report(`${at}.timeout`, `expected a duration such as "0.5s", found ${JSON.stringify(http['timeout'])}; Istio's default 600s is used`, 'warning');
    else timeoutMs = t;
  }
  let statusOnError = ISTIO_STATUS_ON_ERROR;
  const status = http['statusOnError'];
  if (status !== undefined) {
    const n = typeof status === 'number' ? status : typeof status === 'string' && /^[0-9]{3}$/.test(status) ? Number(status) : NaN;
    if (!(n >= 200 && n <= 599)) report(`${at}.statusOnError`, `expected an HTTP status such as "503", found ${JSON.stringify(status)}; 403 is used`, 'warning');
    else statusOnError = n;
  }
  const lists: Record<string, string[] | undefined> = {};
  for (const key of ['includeRequestHeadersInCheck', 'includeHeadersInCheck', 'headersToUpstreamOnAllow', 'headersToDownstreamOnDeny']) {
    if (http[key] === undefined) continue;
    const l = stringList(http[key]);
    if (l === undefined) report(`${at}.${key}`, 'expected a list of header names; ignored', 'warning');
    lists[key] = l?.map((h) => h.toLowerCase());
  }
  const additional = http['includeAdditionalHeadersInCheck'];
  let additionalHeaders: Record<string, string> | undefined;
  if (additional !== undefined) {
    if (isRecord(additional) && Object.values(additional).every((v) => typeof v === 'string')) additionalHeaders = Object.fromEntries(Object.entries(additional as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]));
    else report(`${at}.includeAdditionalHeadersInCheck`, 'expected a map of header name to value; ignored', 'warning');
  }
  for (const key of ['includeRequestBodyInCheck', 'headersToDownstreamOnAllow']) {
    if (http[key] !== undefined) report(`${at}.${key}`, `${key} is not implemented; ignored`, 'warning');
  }
  return {
    kind: 'ok',
    service: {
      url,
      timeoutMs,
      failureMode: http['failOpen'] === true ? 'open' : 'closed',
      statusOnError,
      requestHeaders: [...(lists['includeRequestHeadersInCheck'] ?? []), ...(lists['includeHeadersInCheck'] ?? [])],
      ...(additionalHeaders !== undefined ? { additionalHeaders } : {}),
      upstreamHeaders: lists['headersToUpstreamOnAllow'] ?? [],
      ...(lists['headersToDownstreamOnDeny'] !== undefined ? { clientHeaders: lists['headersToDownstreamOnDeny'] } : {}),
    },
  };
}

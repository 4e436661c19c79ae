// What a DestinationRule asks for that Isthmus does not do (or does differently): said once per
// rule, with the field path, so nothing is ignored in silence.
import type { Diagnostic } from '../../core/diagnostic.js';
import { refOf, type DestinationRule } from '../../resources/resource.js';
import type { IstioTrafficPolicy } from '../../resources/istio-kinds.js';
import { parseIstioDuration } from './istio-durations.js';
import { MAGLEV_DEFAULT_TABLE_SIZE, MAGLEV_MAX_TABLE_SIZE } from '../../ir/defaults.js';
import { isMaglevTableSize, type Policy } from './traffic-policy.js';

const SUPPORTED_TCP_POOL = new Set(['connectTimeout', 'maxConnections']);
const SUPPORTED_HTTP_POOL = new Set(['http1MaxPendingRequests', 'http2MaxRequests', 'maxRequestsPerConnection', 'idleTimeout']);
// `interval`: Envoy ejects on consecutive errors at once, not at the interval (which paces
// success-rate analysis and un-ejection checks); here an ejection also ends exactly on time, so
// the interval changes nothing and is accepted without a word.
const SUPPORTED_OUTLIER = new Set(['consecutive5xxErrors', 'consecutiveErrors', 'consecutiveGatewayErrors', 'baseEjectionTime', 'interval', 'maxEjectionPercent', 'consecutiveLocalOriginFailures', 'splitExternalLocalOriginErrors']);

/** Settings read but not implemented: said once per rule, with the field. */
export function reportUnsupported(rule: DestinationRule, diagnostics: Diagnostic[]): void {
  const warn = (path: string, message: string): void => {
    diagnostics.push({ severity: 'warning', code: 'ERR_ISTIO_UNSUPPORTED', object: refOf(rule), source: rule.source, path, message });
  };
  const check = (policy: IstioTrafficPolicy | Policy | undefined, at: string): void => {
    if (!policy) return;
    for (const key of Object.keys(policy.connectionPool?.tcp ?? {})) if (!SUPPORTED_TCP_POOL.has(key)) warn(`${at}.connectionPool.tcp.${key}`, 'not implemented yet; ignored');
    for (const key of Object.keys(policy.connectionPool?.http ?? {})) if (!SUPPORTED_HTTP_POOL.has(key)) warn(`${at}.connectionPool.http.${key}`, 'not implemented yet; ignored (maxConnections, http1MaxPendingRequests, http2MaxRequests, maxRequestsPerConnection and idleTimeout are honoured)');
    for (const key of Object.keys(policy.outlierDetection ?? {})) if (!SUPPORTED_OUTLIER.has(key)) warn(`${at}.outlierDetection.${key}`, 'not implemented yet; consecutive errors, baseEjectionTime, maxEjectionPercent and splitExternalLocalOriginErrors with consecutiveLocalOriginFailures are honoured');
    const od = policy.outlierDetection;
    if (od?.maxEjectionPercent !== undefined && !(typeof od.maxEjectionPercent === 'number' && od.maxEjectionPercent >= 0 && od.maxEjectionPercent <= 100)) warn(`${at}.outlierDetection.maxEjectionPercent`, `expected a number from 0 to 100, found ${JSON.stringify(od.maxEjectionPercent)}; no cap`);
    if (od?.consecutiveLocalOriginFailures !== undefined && od.splitExternalLocalOriginErrors !== true) warn(`${at}.outlierDetection.consecutiveLocalOriginFailures`, 'has no effect without splitExternalLocalOriginErrors: true (as in Envoy); local-origin failures count with the others');
    const idle = policy.connectionPool?.http?.idleTimeout;
    if (idle !== undefined && parseIstioDuration(String(idle)) === undefined) warn(`${at}.connectionPool.http.idleTimeout`, `expected a duration such as "30s", found ${JSON.stringify(idle)}; the default applies`);
    const lb = policy.loadBalancer;
    if (lb?.simple === 'PASSTHROUGH') warn(`${at}.loadBalancer.simple`, 'PASSTHROUGH (original destination) is not implemented; round-robin is used');
    const ttl = lb?.consistentHash?.httpCookie?.ttl;
    if (ttl !== undefined && parseIstioDuration(ttl) === undefined) warn(`${at}.loadBalancer.consistentHash.httpCookie.ttl`, `expected a duration such as "3600s", found "${ttl}"; the cookie is hashed on when sent but not generated`);
    const tableSize = lb?.consistentHash?.maglev?.tableSize;
    if (tableSize !== undefined && tableSize !== 0 && !isMaglevTableSize(tableSize)) warn(`${at}.loadBalancer.consistentHash.maglev.tableSize`, `expected a prime number no larger than ${MAGLEV_MAX_TABLE_SIZE}, found ${tableSize}; the default ${MAGLEV_DEFAULT_TABLE_SIZE} is used`);
    if (lb?.localityLbSetting !== undefined) warn(`${at}.loadBalancer.localityLbSetting`, 'not implemented yet; ignored');
    if (policy.tls?.caCertificates !== undefined) warn(`${at}.tls.caCertificates`, 'file paths are not read; use credentialName (a Secret with ca.crt)');
    if (policy.tls?.mode === 'ISTIO_MUTUAL') warn(`${at}.tls.mode`, 'ISTIO_MUTUAL needs the mesh CA (istiod issues the workload certificates), which Isthmus does not have; routes to this host answer 500');
    if (policy.tls?.mode === 'MUTUAL' && policy.tls.credentialName === undefined) warn(`${at}.tls.credentialName`, 'tls.mode MUTUAL needs credentialName (a Secret with the client certificate and key); file paths are not read; routes to this host answer 500');
    if (policy.tunnel !== undefined || policy.proxyProtocol !== undefined || policy.retryBudget !== undefined) warn(at, 'tunnel, proxyProtocol and retryBudget are not implemented; ignored');
    if ('portLevelSettings' in policy) (policy.portLevelSettings ?? []).forEach((p, i) => check(p, `${at}.portLevelSettings[${i}]`));
  };
  check(rule.spec.trafficPolicy, 'spec.trafficPolicy');
  rule.spec.subsets.forEach((s, i) => check(s.trafficPolicy, `spec.subsets[${i}].trafficPolicy`));
  if (rule.spec.workloadSelector !== undefined) warn('spec.workloadSelector', 'applies to sidecars only; ignored at the edge');
}

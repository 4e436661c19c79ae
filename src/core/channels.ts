// Telemetry leaves the data plane through node:diagnostics_channel (as undici does): the request
// path publishes plain objects, and metrics, access logs and tracing subscribe. The data plane never
// imports prom-client or pino. `hasSubscribers` is checked before building a message, so a channel
// nobody listens to costs one property read.
import diagnosticsChannel from 'node:diagnostics_channel';
import type { RuntimeErrorCode } from './errors.js';

/** Published once per downstream request, after the last response byte (or the failure). */
export interface RequestEndMessage {
  readonly requestId: string;
  /** Wall-clock ms at start. */
  readonly startTime: number;
  readonly durationMs: number;
  /** Time to upstream response headers, when there was an upstream. */
  readonly upstreamHeadersMs?: number;
  readonly method: string;
  readonly host: string;
  readonly path: string;
  readonly protocol: string;
  readonly listener: string;
  /** IR route name, or undefined when no route matched. */
  readonly route?: string;
  readonly cluster?: string;
  /** `address:port` of the last endpoint tried. */
  readonly upstream?: string;
  readonly attempts: number;
  readonly status: number;
  readonly bytesSent: number;
  /**
   * Set when the gateway answered itself or the response was cut: a RuntimeErrorCode, or the
   * reason a filter gave for answering (e.g. `cors_preflight`).
   */
  readonly details?: RuntimeErrorCode | (string & {});
  readonly clientAddress: string;
  readonly userAgent?: string;
  /** An HTTP/1.1 Upgrade: logged once, when the tunnel (or the refused answer) ends. */
  readonly upgrade?: boolean;
  /** The consumer authentication found (`partners/acme`); undefined for an anonymous request. */
  readonly consumer?: string;
  /** That consumer's Plan (`partners/gold`), when it has one. */
  readonly plan?: string;
  /** The API (`api/partners/orders`) whose version the route serves; undefined for other routes. */
  readonly api?: string;
  /** That version's name (`v1`). */
  readonly apiVersion?: string;
  /** The Istio AUDIT rule the request matched (`authorizationpolicy/ns/name/rule/0`). */
  readonly audit?: string;
  /** The external authorization check and its outcome (`authpolicy/ns/name/external-auth: allowed`). */
  readonly extAuth?: string;
}

/** Published for every failed upstream attempt (also ones that were retried). */
export interface UpstreamErrorMessage {
  readonly cluster: string;
  readonly endpoint: string;
  readonly reason: RuntimeErrorCode;
  readonly retried: boolean;
}

/** Published after every attempt to apply a new configuration. */
export interface ConfigApplyMessage {
  readonly generation: number;
  readonly outcome: 'applied' | 'rejected';
  readonly durationMs: number;
  readonly errors: number;
  readonly warnings: number;
}

/** Why an L4 connection (or UDP flow) ended; a metric label and an access-log field. */
export type L4CloseReason = 'client_closed' | 'upstream_closed' | 'idle_timeout' | 'connect_failed' | 'drained' | 'no_route' | 'proxy_protocol_error' | 'tls_error';

/** Published once per L4 connection or UDP flow, when it ends. */
export interface L4ConnectionEndMessage {
  readonly listener: string;
  readonly protocol: 'TCP' | 'UDP' | 'TLS';
  /** IR route name; undefined when none took the connection. */
  readonly route?: string;
  readonly backend?: string;
  /** `address:port` of the endpoint it was proxied to (the last one tried when none answered). */
  readonly endpoint?: string;
  /** The client: the PROXY header's source when one was accepted, else the peer. */
  readonly clientAddress: string;
  readonly clientPort: number;
  /** The TLS ClientHello's server_name, for TLS listeners. */
  readonly serverName?: string;
  /** Wall-clock ms at accept. */
  readonly startTime: number;
  readonly durationMs: number;
  /** Bytes (UDP: payload bytes) from the client, PROXY header and ClientHello included. */
  readonly bytesIn: number;
  /** Bytes (UDP: payload bytes) sent to the client. */
  readonly bytesOut: number;
  readonly reason: L4CloseReason;
}

export const channels = {
  requestEnd: diagnosticsChannel.channel('isthmus:request:end'),
  upstreamError: diagnosticsChannel.channel('isthmus:upstream:error'),
  configApply: diagnosticsChannel.channel('isthmus:config:apply'),
  l4ConnectionEnd: diagnosticsChannel.channel('isthmus:l4:connection:end'),
} as const;

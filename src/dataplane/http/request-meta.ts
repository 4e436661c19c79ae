/** What the request path learned about a request, carried to the log at the end. */
export interface RequestMeta {
  /** performance.now() at accept of the request. */
  readonly startMs: number;
  /** Wall clock at start. */
  readonly startTime: number;
  readonly requestId: string;
  readonly method: string;
  /** Host without port, lower-case. */
  readonly host: string;
  /** Normalised path and the query as received. */
  readonly path: string;
  readonly protocol: string;
  readonly listener: string;
  readonly clientIp: string;
  readonly userAgent: string | undefined;
}

// What the front end knows about a request once its head is parsed: the request line, the header
// lines in arrival order (node's `rawHeaders` shape), and how the body is framed.
import { METHODS } from 'node:http';

export type BodyFraming =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; readonly bytes: number }
  | { readonly kind: 'chunked' };

export interface RequestHead {
  readonly method: string;
  /** The request-target exactly as sent (latin1), as node's `req.url`. */
  readonly url: string;
  readonly versionMajor: number;
  readonly versionMinor: number;
  /** [name, value, name, value, ...] as sent; values without surrounding whitespace (node's `rawHeaders`). */
  readonly rawHeaders: string[];
  readonly framing: BodyFraming;
  /** CONNECT, or `Upgrade` with `Connection: upgrade`: the bytes after the head belong to another protocol. */
  readonly upgrade: boolean;
}

/**
 * The methods llhttp knows, by the protocol named on the request line. Node 20 accepts RTSP and
 * ICE request lines too (`DESCRIBE / RTSP/1.0`, `SOURCE / ICE/1.0`); the data plane sees them as
 * HTTP/1.0 requests, exactly as it does behind node:http.
 */
export const HTTP_METHODS: ReadonlySet<string> = new Set([...METHODS, 'PRI']);
export const RTSP_METHODS: ReadonlySet<string> = new Set([
  'OPTIONS', 'DESCRIBE', 'ANNOUNCE', 'SETUP', 'PLAY', 'PAUSE', 'TEARDOWN', 'GET_PARAMETER',
  'SET_PARAMETER', 'REDIRECT', 'RECORD', 'FLUSH', 'GET', 'POST',
]);
export const ICE_METHODS: ReadonlySet<string> = new Set(['SOURCE']);
export const ALL_METHODS: ReadonlySet<string> = new Set([...HTTP_METHODS, ...RTSP_METHODS, ...ICE_METHODS]);

/** The longest method name, so a long run of capitals is refused before it is buffered. */
export const MAX_METHOD_BYTES = Math.max(...[...ALL_METHODS].map((m) => m.length));

// One object per request that every filter phase sees: the normalised facts of the request, where
// it arrived and which route took it, and attributes filters hand to each other (an auth filter
// sets the consumer, a rate-limit filter reads it). It holds no node:http object, so a filter can
// neither write to the socket nor depend on the HTTP version, and an upgrade gets the same context.

export interface RequestContext {
  readonly requestId: string;
  /** performance.now() when the request arrived, and the wall clock then (for the log). */
  readonly startMs: number;
  readonly startTime: number;
  readonly method: string;
  readonly scheme: 'http' | 'https';
  /** The authority the request was routed by (request-authority.ts), and its host, lower case. */
  readonly authority: string;
  readonly host: string;
  /** Normalised path, and the query as received (with its `?`, or empty). */
  readonly path: string;
  readonly query: string;
  /** Request headers as received, names lower case. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly clientIp: string;
  readonly protocol: 'HTTP/1.0' | 'HTTP/1.1' | 'HTTP/2';
  readonly listener: string;
  readonly route: string;
  /** An HTTP/1.1 Upgrade (WebSocket): no response phase until the upstream answers. */
  readonly upgrade: boolean;
  /** Values filters pass to later filters and to the log, keyed by the filter that owns them. */
  readonly attributes: Map<string, unknown>;
  /**
   * The certificate the client presented in the TLS handshake, read on first use; undefined on
   * plain HTTP or when the client presented none. Optional so that contexts built elsewhere (tests)
   * need not have one.
   */
  readonly peerCertificate?: PeerCertificate | undefined;
}

/** What a filter may know of the client's TLS certificate: facts, not the socket. */
export interface PeerCertificate {
  /** Whether the listener verified it against its client CA (node's `socket.authorized`). */
  readonly authorized: boolean;
  /** SHA-256 of the DER certificate, upper-case hex pairs joined by `:` (node's `fingerprint256`). */
  readonly sha256Fingerprint: string;
  /** The subject DN, RFC 4514 order and escaping (`CN=acme,O=Example`). */
  readonly subject: string;
}

/**
 * The request path's RequestContext: one allocation per request, and the attributes map only for
 * requests whose filters use it (most routes have none).
 */
export class RequestContextRecord implements RequestContext {
  #attributes: Map<string, unknown> | undefined;
  #startTime: number | undefined;

  /**
   * `startTime` undefined: worked out from `startMs` when first read (by the log phase, at the
   * end), so the request path reads the wall clock once per request rather than twice at its start.
   */
  constructor(
    readonly requestId: string,
    readonly startMs: number,
    startTime: number | undefined,
    readonly method: string,
    readonly scheme: 'http' | 'https',
    readonly authority: string,
    readonly host: string,
    readonly path: string,
    readonly query: string,
    readonly headers: Readonly<Record<string, string | string[] | undefined>>,
    readonly clientIp: string,
    readonly protocol: 'HTTP/1.0' | 'HTTP/1.1' | 'HTTP/2',
    readonly listener: string,
    readonly route: string,
    readonly upgrade: boolean,
    /** Reads the TLS peer certificate; called at most once, only by a filter that asks. */
    readonly readPeerCertificate?: () => PeerCertificate | undefined,
  ) {
    this.#startTime = startTime;
  }

  get startTime(): number {
    return (this.#startTime ??= Date.now() - (performance.now() - this.startMs));
  }

  #peer: PeerCertificate | undefined | null = null;

  get peerCertificate(): PeerCertificate | undefined {
    if (this.#peer === null) this.#peer = this.readPeerCertificate?.();
    return this.#peer;
  }

  get attributes(): Map<string, unknown> {
    return (this.#attributes ??= new Map());
  }

  /** One attribute, without allocating the map when no filter set any. */
  attribute(key: string): unknown {
    return this.#attributes?.get(key);
  }
}

/** An attribute of the request; for the log phase, which runs for every request, allocates nothing. */
export function attributeOf(ctx: RequestContext, key: string): unknown {
  return ctx instanceof RequestContextRecord ? ctx.attribute(key) : ctx.attributes.get(key);
}

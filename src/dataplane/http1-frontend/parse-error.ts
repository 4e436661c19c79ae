// Why the front end refused a request. Codes are node's (llhttp's `HPE_*` plus the two refusals
// node's server adds on top), so a log line or a test reads the same under either front end, and
// client-error.ts maps them to a status the same way.

export type Http1ErrorCode =
  | 'HPE_INVALID_METHOD'
  | 'HPE_INVALID_URL'
  | 'HPE_INVALID_CONSTANT'
  | 'HPE_INVALID_VERSION'
  | 'HPE_UNEXPECTED_SPACE'
  | 'HPE_INVALID_HEADER_TOKEN'
  | 'HPE_CR_EXPECTED'
  | 'HPE_LF_EXPECTED'
  | 'HPE_STRICT'
  | 'HPE_INVALID_CONTENT_LENGTH'
  | 'HPE_UNEXPECTED_CONTENT_LENGTH'
  | 'HPE_INVALID_TRANSFER_ENCODING'
  | 'HPE_INVALID_CHUNK_SIZE'
  | 'HPE_CHUNK_EXTENSIONS_OVERFLOW'
  | 'HPE_HEADER_OVERFLOW'
  | 'HPE_CLOSED_CONNECTION'
  | 'HPE_INVALID_EOF_STATE';

export class Http1ParseError extends Error {
  constructor(
    readonly code: Http1ErrorCode,
    readonly reason: string,
    /** Offset of the offending byte in the connection's stream of request bytes (for tests and logs). */
    readonly offset: number,
  ) {
    super(`${code}: ${reason}`);
  }
}

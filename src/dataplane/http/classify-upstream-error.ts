// Maps a transport error to a local-reply reason. Codes come from undici (UND_ERR_*), from the
// socket layer (E*), and from llhttp (HPE_*) when the upstream's response is malformed.
import type { RuntimeErrorCode } from '../../core/errors.js';

export function classifyUpstreamError(err: Error, responseStarted: boolean): RuntimeErrorCode {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'upstream_connect_timeout';
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return 'upstream_timeout';
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return 'upstream_connect_error';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return 'upstream_reset';
    default:
      if (code.startsWith('HPE_') || code === 'UND_ERR_INFO' || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
        return 'upstream_protocol_error';
      }
      return responseStarted ? 'upstream_reset' : 'upstream_connect_error';
  }
}

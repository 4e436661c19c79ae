// The response object the data plane writes to under the lean front end, with the parts of node's
// ServerResponse the data plane uses (writeHead with an object or a flat list, write with
// backpressure and 'drain', end, addTrailers, destroy, headersSent / writableEnded /
// writableFinished / destroyed, 'finish' and 'close'), and node's framing rules: Date,
// Connection keep-alive or close with Keep-Alive: timeout, chunked when no length is given (close-
// delimited for HTTP/1.0), no body for HEAD, 1xx, 204 and 304. The head goes out with the first
// body bytes in one corked write.
import { EventEmitter } from 'node:events';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { isFieldValue, isToken } from '../../core/http-field-chars.js';

export interface ResponseOptions {
  readonly keepAlive: boolean;
  readonly keepAliveTimeoutS: number;
  readonly isHead: boolean;
  readonly http10: boolean;
  readonly onDone: (res: LeanResponse) => void;
}


/** Up to this many body bytes, end(chunk) copies head and body into one buffer (endInOneWrite). */
const ONE_WRITE_MAX = 16 * 1024;

let cachedDate = '';
let cachedSecond = -1;
function httpDate(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedDate = new Date(second * 1000).toUTCString();
  }
  return cachedDate;
}

export class LeanResponse extends EventEmitter {
  statusCode = 200;
  statusMessage = '';
  headersSent = false;
  writableEnded = false;
  writableFinished = false;
  destroyed = false;
  /** Whether the connection may carry another request after this response. */
  keepAlive: boolean;
  private head: string | undefined;
  private chunked = false;
  private hasBody = true;
  private trailers: string | undefined;

  constructor(readonly socket: Socket, private readonly options: ResponseOptions) {
    super();
    this.keepAlive = options.keepAlive;
  }

  writeHead(status: number, headers?: Record<string, string | number | readonly string[] | undefined> | readonly string[]): this {
    if (this.headersSent) throw Object.assign(new Error('Cannot write headers after they are sent to the client'), { code: 'ERR_HTTP_HEADERS_SENT' });
    this.statusCode = status;
    this.statusMessage = STATUS_CODES[status] ?? 'unknown';
    let text = `HTTP/1.1 ${status} ${this.statusMessage}\r\n`;
    let hasLength = false;
    let hasEncoding = false;
    let hasDate = false;
    let connection: string | undefined;
    const add = (name: string, value: string): void => {
      if (!isToken(name)) throw Object.assign(new Error(`Header name must be a valid HTTP token ["${name}"]`), { code: 'ERR_INVALID_HTTP_TOKEN' });
      if (!isFieldValue(value)) throw Object.assign(new Error(`Invalid character in header content ["${name}"]`), { code: 'ERR_INVALID_CHAR' });
      switch (name.length) {
        case 4:
          if (name.toLowerCase() === 'date') hasDate = true;
          break;
        case 10:
          if (name.toLowerCase() === 'connection') connection = connection === undefined ? value : `${connection}, ${value}`;
          break;
        case 14:
          if (name.toLowerCase() === 'content-length') hasLength = true;
          break;
        case 17:
          if (name.toLowerCase() === 'transfer-encoding') {
            hasEncoding = true;
            if (/(?:^|,)\s*chunked\s*$/i.test(value)) this.chunked = true;
          }
          break;
      }
      text += `${name}: ${value}\r\n`;
    };
    if (Array.isArray(headers)) {
      for (let i = 0; i < headers.length; i += 2) add(headers[i]!, String(headers[i + 1]));
    } else if (headers !== undefined) {
      for (const name of Object.keys(headers)) {
        const value = (headers as Record<string, string | number | readonly string[] | undefined>)[name];
        if (value === undefined) continue;
        if (Array.isArray(value)) for (const v of value) add(name, String(v));
        else add(name, String(value));
      }
    }
    this.hasBody = !this.options.isHead && status !== 204 && status !== 304 && (status < 100 || status >= 200);
    if (!hasDate) text += `Date: ${httpDate()}\r\n`;
    if (connection !== undefined) {
      if (/(?:^|,)\s*close\s*(?:,|$)/i.test(connection)) this.keepAlive = false;
    } else if (this.keepAlive && (hasLength || hasEncoding || !this.hasBody || !this.options.http10)) {
      text += `Connection: keep-alive\r\nKeep-Alive: timeout=${this.options.keepAliveTimeoutS}\r\n`;
    } else {
      this.keepAlive = false;
      text += 'Connection: close\r\n';
    }
    // No length: chunked on HTTP/1.1, the end of the connection on HTTP/1.0 (RFC 9112 §6.3).
    if (this.hasBody && !hasLength && !hasEncoding) {
      if (this.options.http10) this.keepAlive = false;
      else {
        this.chunked = true;
        text += 'Transfer-Encoding: chunked\r\n';
      }
    }
    this.head = `${text}\r\n`;
    this.headersSent = true;
    return this;
  }

  addTrailers(trailers: Record<string, string | string[] | undefined> | readonly (readonly [string, string])[]): void {
    let text = '';
    const entries = Array.isArray(trailers) ? trailers : Object.entries(trailers);
    for (const [name, value] of entries as [string, string | string[] | undefined][]) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) {
        if (!isToken(name) || !isFieldValue(v)) throw Object.assign(new Error(`Invalid trailer ${name}`), { code: 'ERR_INVALID_CHAR' });
        text += `${name}: ${v}\r\n`;
      }
    }
    this.trailers = (this.trailers ?? '') + text;
  }

  write(chunk: Buffer | string): boolean {
    if (this.writableEnded || this.destroyed) return false;
    if (!this.headersSent) this.writeHead(this.statusCode);
    const socket = this.socket;
    const length = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    const head = this.takeHead();
    if (!this.hasBody || length === 0) return head === undefined ? !socket.writableNeedDrain : socket.write(head, 'latin1');
    socket.cork();
    if (head !== undefined) socket.write(head, 'latin1');
    if (this.chunked) socket.write(`${length.toString(16)}\r\n`, 'latin1');
    let ok = socket.write(chunk);
    if (this.chunked) ok = socket.write('\r\n', 'latin1');
    socket.uncork();
    if (!ok) socket.once('drain', this.onDrain);
    return ok;
  }

  end(chunk?: Buffer | string): this {
    if (this.writableEnded || this.destroyed) return this;
    if (!this.headersSent) this.writeHead(this.statusCode);
    const socket = this.socket;
    if (this.head !== undefined && (chunk === undefined || (typeof chunk !== 'string' && chunk.length <= ONE_WRITE_MAX))) return this.endInOneWrite(chunk);
    socket.cork();
    if (chunk !== undefined && (typeof chunk === 'string' ? chunk.length > 0 : chunk.length > 0)) this.write(chunk);
    const head = this.takeHead();
    if (head !== undefined) socket.write(head, 'latin1');
    this.writableEnded = true;
    const last = this.chunked && this.hasBody ? `0\r\n${this.trailers ?? ''}\r\n` : '';
    socket.write(last, 'latin1', this.onFlushed);
    socket.uncork();
    return this;
  }

  /**
   * The whole response (head, a small last body chunk, chunked framing and trailers) as one Buffer
   * in one socket write: most proxied responses are one small body read, and one buffer write is
   * cheaper than corked pieces, which go through the stream's writev path (an array of chunks, a
   * write request per piece) for a few hundred bytes.
   */
  private endInOneWrite(chunk: Buffer | undefined): this {
    const head = this.takeHead()!;
    const body = this.hasBody && chunk !== undefined && chunk.length > 0 ? chunk : undefined;
    let suffix = this.chunked && this.hasBody ? `0\r\n${this.trailers ?? ''}\r\n` : '';
    let prefix = head;
    if (body !== undefined && this.chunked) {
      prefix += `${body.length.toString(16)}\r\n`;
      suffix = `\r\n${suffix}`;
    }
    // latin1: one byte per char, as writeHead built the head from latin1 header values.
    const out = Buffer.allocUnsafe(prefix.length + (body?.length ?? 0) + suffix.length);
    let at = out.write(prefix, 0, 'latin1');
    if (body !== undefined) at += body.copy(out, at);
    out.write(suffix, at, 'latin1');
    this.writableEnded = true;
    this.socket.write(out, this.onFlushed);
    return this;
  }

  /** Bytes queued on the socket and not yet taken by the kernel (proxy-exchange reads it for its send timeout). */
  get writableLength(): number {
    return this.socket.writableLength;
  }

  get writableHighWaterMark(): number {
    return this.socket.writableHighWaterMark;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.socket.destroy();
  }

  /** The socket closed under this response (before or after it finished). */
  socketClosed(): void {
    if (this.writableFinished) return;
    this.destroyed = true;
    this.emit('close');
  }

  private takeHead(): string | undefined {
    const head = this.head;
    this.head = undefined;
    return head;
  }

  private readonly onDrain = (): void => {
    this.emit('drain');
  };

  private readonly onFlushed = (): void => {
    if (this.writableFinished) return;
    this.writableFinished = true;
    this.emit('finish');
    this.options.onDone(this);
    this.emit('close');
  };
}

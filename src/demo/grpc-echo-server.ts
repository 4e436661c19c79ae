// The demo's gRPC backend, for Pod ports named `grpc` (or `grpc-*`): an h2c server (prior
// knowledge, as a gateway speaks to a gRPC backend) that answers every call with the messages it
// was sent, unchanged, and grpc-status 0. It parses no protobuf, so it serves any method whose
// request and response types are the same (examples/gateway-api/echo.proto). Response metadata
// names the Pod (x-echo-pod, x-echo-namespace), the method (x-echo-method) and echoes each
// request header starting with `x-` as `echo-<name>`, so header filters can be seen.
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { EchoServerOptions } from './echo-request.js';

export class GrpcEchoServer {
  readonly #options: EchoServerOptions;
  readonly #server: http2.Http2Server;
  readonly #sessions = new Set<http2.ServerHttp2Session>();

  constructor(options: EchoServerOptions) {
    this.#options = options;
    this.#server = http2.createServer();
    this.#server.on('session', (session: http2.ServerHttp2Session) => {
      this.#sessions.add(session);
      session.on('error', () => undefined);
      session.once('close', () => this.#sessions.delete(session));
    });
    this.#server.on('stream', (stream, headers) => this.#onStream(stream, headers));
  }

  async listen(): Promise<{ host: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen({ host: this.#options.host, port: this.#options.port }, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const address = this.#server.address() as AddressInfo;
    return { host: address.address, port: address.port };
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.#server.listening) {
        resolve();
        return;
      }
      this.#server.close(() => resolve());
      for (const session of this.#sessions) session.destroy();
    });
  }

  #onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    stream.on('error', () => undefined);
    const contentType = String(headers['content-type'] ?? '');
    if (headers[':method'] !== 'POST' || !contentType.startsWith('application/grpc')) {
      stream.respond({ ':status': 415, 'content-type': 'text/plain; charset=utf-8' });
      stream.end('gRPC echo: send a POST with content-type application/grpc\n');
      return;
    }
    const metadata: http2.OutgoingHttpHeaders = {
      ':status': 200,
      'content-type': 'application/grpc',
      'x-echo-pod': this.#options.name,
      'x-echo-namespace': this.#options.namespace ?? 'default',
      'x-echo-method': String(headers[':path'] ?? ''),
    };
    for (const [name, value] of Object.entries(headers)) {
      if (name.startsWith('x-') && value !== undefined) metadata[`echo-${name}`] = value;
    }
    stream.respond(metadata, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    // The length-prefixed messages go back as they came, so streaming calls stream back too.
    stream.pipe(stream);
  }
}

// Helpers for the L4 tests: real servers on 127.0.0.1 port 0, an IR listener with test-sized
// timeouts, and a recorder of l4ConnectionEnd messages.
import net from 'node:net';
import diagnosticsChannel from 'node:diagnostics_channel';
import type { L4ConnectionEndMessage } from '../../../src/core/channels.js';
import type { IrL4Backend, IrL4Endpoint, IrL4Listener } from '../../../src/ir/l4.js';

export function l4Listener(name: string, backends: readonly IrL4Backend[], extra: Partial<IrL4Listener> = {}): IrL4Listener {
  return {
    name,
    address: '127.0.0.1',
    port: 0,
    protocol: 'TCP',
    routes: [{ name: `${name}/route`, sniHosts: [], backends }],
    scheduler: 'rr',
    idleTimeoutMs: 10_000,
    connectTimeoutMs: 1_000,
    drainTimeoutMs: 1_000,
    ...extra,
  };
}

export function backend(name: string, endpoints: readonly IrL4Endpoint[], extra: Partial<IrL4Backend> = {}): IrL4Backend {
  return { name, weight: 1, endpoints, ...extra };
}

export function local(port: number): IrL4Endpoint {
  return { address: '127.0.0.1', port };
}

/** A TCP server on 127.0.0.1:0 whose handler gets each socket; allowHalfOpen so tests can half-close. */
export async function tcpServer(onSocket: (s: net.Socket) => void): Promise<{ server: net.Server; port: number; sockets: Set<net.Socket>; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    onSocket(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    server,
    port: (server.address() as net.AddressInfo).port,
    sockets,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/** An echo server that prefixes each answer with its name, so a test knows which endpoint answered. */
export function echoServer(name: string): ReturnType<typeof tcpServer> {
  return tcpServer((s) => {
    s.on('data', (d) => s.write(`${name}:${d.toString()}`));
    s.on('end', () => s.end());
  });
}

/** A port with nothing listening (bound, then closed): connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Sends `text` and waits for at least `expectBytes` bytes back (or the end). */
export function exchange(socket: net.Socket, text: string, expectBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const onData = (d: Buffer): void => {
      got += d.toString();
      if (got.length >= expectBytes) done();
    };
    const done = (): void => {
      socket.off('data', onData);
      socket.off('end', done);
      resolve(got);
    };
    socket.on('data', onData);
    socket.once('end', done);
    socket.once('error', reject);
    socket.write(text);
  });
}

/** Everything read until the peer closes. */
export function readAll(socket: net.Socket): Promise<{ data: string; ended: 'end' | 'close' }> {
  return new Promise((resolve) => {
    let data = '';
    socket.on('data', (d) => (data += d.toString()));
    socket.once('end', () => resolve({ data, ended: 'end' }));
    socket.once('close', () => resolve({ data, ended: 'close' }));
    socket.on('error', () => {});
  });
}

/** Records l4ConnectionEnd messages until stop(); waitFor() resolves when one matches. */
export function recordConnectionEnds(): { messages: L4ConnectionEndMessage[]; waitFor(pred: (m: L4ConnectionEndMessage) => boolean, timeoutMs?: number): Promise<L4ConnectionEndMessage>; stop(): void } {
  const messages: L4ConnectionEndMessage[] = [];
  const waiters: { pred: (m: L4ConnectionEndMessage) => boolean; resolve: (m: L4ConnectionEndMessage) => void }[] = [];
  const onMessage = (m: unknown): void => {
    const msg = m as L4ConnectionEndMessage;
    messages.push(msg);
    for (const w of [...waiters]) if (w.pred(msg)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(msg);
    }
  };
  diagnosticsChannel.subscribe('isthmus:l4:connection:end', onMessage);
  return {
    messages,
    waitFor(pred, timeoutMs = 5_000) {
      const found = messages.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching l4ConnectionEnd within ${timeoutMs} ms; seen: ${JSON.stringify(messages)}`)), timeoutMs);
        waiters.push({ pred, resolve: (msg) => (clearTimeout(timer), resolve(msg)) });
      });
    },
    stop: () => diagnosticsChannel.unsubscribe('isthmus:l4:connection:end', onMessage),
  };
}

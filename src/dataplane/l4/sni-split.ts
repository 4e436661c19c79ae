// One port, two owners: an HTTPS bind and a TLS passthrough (or terminate) L4 listener that shares
// its socket (IR `sharesBind`). Each new connection's ClientHello is read once and its SNI decides:
// the L4 listener takes it when one of its routes names the server more specifically than the
// bind's hostnames do; otherwise the bind terminates TLS as before, with the bytes read put back.
// Specificity is SniRoutes': an exact name, then the longest wildcard, then a catch-all; on a tie
// the HTTPS bind keeps the name (Gateway API forbids two listeners of one port the same hostname,
// so a tie is a host an Ingress or an Istio server claims as well).
import type net from 'node:net';
import { parseClientHello } from './client-hello.js';
import { readPrefix } from './prefix-reader.js';
import { SniRoutes } from './sni-routes.js';

interface Owner {
  readonly sniHosts: readonly string[];
  readonly l4: boolean;
}

export interface SniSplitInput {
  /** The HTTPS bind's hostnames (its virtual hosts'); `*` is its catch-all. */
  readonly httpsHostnames: readonly string[];
  /** The sharing L4 listener's routes' SNI names, in route order (an empty list: a catch-all). */
  readonly l4Routes: readonly { readonly sniHosts: readonly string[] }[];
  /** Hands a connection to the L4 listener, with the bytes already read. */
  readonly adopt: (socket: net.Socket, head: Buffer) => void;
  /** How long a client may take to send its ClientHello. */
  readonly timeoutMs: number;
}

/** The Listener's divert for a shared bind (listener.ts `Divert`). */
export function sniSplit(input: SniSplitInput): (socket: net.Socket, toTls: (head: Buffer) => void) => void {
  const named = input.httpsHostnames.filter((h) => h !== '*');
  // HTTPS entries first: SniRoutes keeps the first claim of a name, and its first catch-all.
  const owners: Owner[] = [];
  if (input.httpsHostnames.includes('*')) owners.push({ sniHosts: [], l4: false });
  if (named.length > 0) owners.push({ sniHosts: named, l4: false });
  for (const r of input.l4Routes) owners.push({ sniHosts: r.sniHosts, l4: true });
  const table = new SniRoutes(owners);
  return (socket, toTls) => {
    socket.pause();
    void readPrefix(socket, Buffer.alloc(0), parseClientHello, input.timeoutMs).then((read) => {
      if (read.kind === 'ok') {
        if (table.select(read.value.serverName?.toLowerCase())?.l4 === true) input.adopt(socket, read.bytes);
        else toTls(read.bytes);
      } else if (read.why === 'invalid') {
        // Not a ClientHello this parser knows: the TLS engine answers it as it always has.
        toTls(read.bytes);
      } else {
        socket.destroy();
      }
    });
  };
}

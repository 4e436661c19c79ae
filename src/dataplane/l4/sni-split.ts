// One port, two owners: an HTTPS bind and a TLS passthrough (or terminate) L4 listener that shares
// its socket (IR `sharesBind`). Each new connection's ClientHello is read once and its SNI decides:
// the L4 listener takes it when one of its routes names the server more specifically than the
// bind's hostnames do; otherwise the bind terminates TLS as before, with the bytes read put back.
// Specificity is SniRoutes': an exact name, then the longest wildcard, then a catch-all; on a tie
// the HTTPS bind keeps the name (Gateway API forbids two listeners of one port the same hostname,
// so a tie is a host an Ingress or an Istio server claims as well).
import type net from 'node:net';
import type { IrL4Route } from '../../ir/l4.js';
import type { IrSnapshot } from '../../ir/types.js';
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

/** Who takes a ClientHello's name on a shared bind; compiled once per apply. Explain asks it too. */
export class SniSplitTable {
  private readonly table: SniRoutes<Owner>;

  constructor(httpsHostnames: readonly string[], l4Routes: readonly Pick<IrL4Route, 'sniHosts'>[]) {
    const named = httpsHostnames.filter((h) => h !== '*');
    // HTTPS entries first: SniRoutes keeps the first claim of a name, and its first catch-all.
    const owners: Owner[] = [];
    if (httpsHostnames.includes('*')) owners.push({ sniHosts: [], l4: false });
    if (named.length > 0) owners.push({ sniHosts: named, l4: false });
    for (const r of l4Routes) owners.push({ sniHosts: r.sniHosts, l4: true });
    this.table = new SniRoutes(owners);
  }

  /** `l4` when the sharing L4 listener takes this name (undefined: no SNI sent), else `https`. */
  owner(serverName: string | undefined): 'l4' | 'https' {
    return this.table.select(serverName?.toLowerCase())?.l4 === true ? 'l4' : 'https';
  }
}

/** Every hostname the virtual hosts of a bind's listeners serve (`*`: a catch-all). */
export function httpsHostnamesOf(ir: IrSnapshot, bindName: string): string[] {
  const bind = ir.binds.find((b) => b.name === bindName);
  if (bind === undefined) return [];
  const names = new Set(bind.listeners.map((l) => l.listener));
  return ir.listeners.filter((l) => names.has(l.name)).flatMap((l) => l.virtualHosts.flatMap((v) => v.hostnames));
}

/** The Listener's divert for a shared bind (listener.ts `Divert`). */
export function sniSplit(input: SniSplitInput): (socket: net.Socket, toTls: (head: Buffer) => void) => void {
  const table = new SniSplitTable(input.httpsHostnames, input.l4Routes);
  return (socket, toTls) => {
    socket.pause();
    void readPrefix(socket, Buffer.alloc(0), parseClientHello, input.timeoutMs).then((read) => {
      if (read.kind === 'ok') {
        if (table.owner(read.value.serverName) === 'l4') input.adopt(socket, read.bytes);
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

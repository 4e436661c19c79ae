// The bind step for L4 listeners: `--port-map` applies to them as to HTTP listeners, and a socket
// can be held by one of them only. An L4 listener whose transport (TCP for TCP and TLS, UDP), port
// and address overlap an HTTP bind or an earlier L4 listener is left out with a diagnostic, so the
// data plane never meets EADDRINUSE between two declarations. A wildcard address (0.0.0.0, ::)
// overlaps every address on its port.
//
// One exception, as Gateway API allows HTTPS and TLS listeners on one port told apart by hostname
// (and Istio serves HTTPS and PASSTHROUGH servers of one port from one listener): a TLS listener
// on exactly the address and port of an HTTPS bind shares that bind's socket (`sharesBind`); the
// bind splits connections by the ClientHello's SNI (docs/l4.md "One port, split by SNI").
import type { Diagnostic } from '../../core/diagnostic.js';
import { formatObjectRef } from '../../core/object-ref.js';
import type { IrL4Listener } from '../../ir/l4.js';
import type { IrBind } from '../../ir/types.js';
import type { BindOptions } from './bind-listeners.js';

interface Held {
  readonly transport: 'tcp' | 'udp';
  readonly address: string;
  readonly port: number;
  readonly by: string;
  /** An HTTPS bind no TLS listener shares yet: its name. */
  readonly shareableBind?: string;
}

export function bindL4Listeners(listeners: readonly IrL4Listener[], httpBinds: readonly IrBind[], options: BindOptions, diagnostics: Diagnostic[]): IrL4Listener[] {
  const held: Held[] = httpBinds.map((b) => ({ transport: 'tcp', address: b.address, port: b.port, by: `HTTP bind ${b.name}`, ...(b.protocol === 'https' ? { shareableBind: b.name } : {}) }));
  const out: IrL4Listener[] = [];
  for (const declared of listeners) {
    const port = options.portMap.get(declared.port) ?? declared.port;
    const l = port === declared.port ? declared : { ...declared, port };
    const transport = l.protocol === 'UDP' ? 'udp' : 'tcp';
    // Port 0 (tests: any free port) never collides.
    const clash = port === 0 ? undefined : held.find((h) => h.transport === transport && h.port === port && overlaps(h.address, l.address));
    if (clash?.shareableBind !== undefined && l.protocol === 'TLS' && clash.address === l.address) {
      // One TLS listener per HTTPS bind: the next one meets this entry and is a conflict.
      held[held.indexOf(clash)] = { transport, address: l.address, port, by: `${clash.by}, shared with L4 listener ${l.name}` };
      out.push({ ...l, sharesBind: clash.shareableBind });
      continue;
    }
    if (clash !== undefined) {
      diagnostics.push({
        severity: 'error',
        code: 'ERR_L4_LISTENER_CONFLICT',
        ...(l.origin !== undefined ? { object: l.origin } : {}),
        message: `L4 listener ${l.name} (${l.protocol} ${l.address}:${port}) overlaps ${clash.by}; it is not served`,
      });
      continue;
    }
    held.push({ transport, address: l.address, port, by: `L4 listener ${l.name}${l.origin !== undefined ? ` of ${formatObjectRef(l.origin)}` : ''}` });
    out.push(l);
  }
  return out;
}

function overlaps(a: string, b: string): boolean {
  return a === b || a === '0.0.0.0' || b === '0.0.0.0' || a === '::' || b === '::';
}

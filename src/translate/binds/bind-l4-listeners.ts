// The bind step for L4 listeners: `--port-map` applies to them as to HTTP listeners, and a socket
// can be held by one of them only. An L4 listener whose transport (TCP for TCP and TLS, UDP), port
// and address overlap an HTTP bind or an earlier L4 listener is left out with a diagnostic, so the
// data plane never meets EADDRINUSE between two declarations. A wildcard address (0.0.0.0, ::)
// overlaps every address on its port.
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
}

export function bindL4Listeners(listeners: readonly IrL4Listener[], httpBinds: readonly IrBind[], options: BindOptions, diagnostics: Diagnostic[]): IrL4Listener[] {
  const held: Held[] = httpBinds.map((b) => ({ transport: 'tcp', address: b.address, port: b.port, by: `HTTP bind ${b.name}` }));
  const out: IrL4Listener[] = [];
  for (const declared of listeners) {
    const port = options.portMap.get(declared.port) ?? declared.port;
    const l = port === declared.port ? declared : { ...declared, port };
    const transport = l.protocol === 'UDP' ? 'udp' : 'tcp';
    // Port 0 (tests: any free port) never collides.
    const clash = port === 0 ? undefined : held.find((h) => h.transport === transport && h.port === port && overlaps(h.address, l.address));
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

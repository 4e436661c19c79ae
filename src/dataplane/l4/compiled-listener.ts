// An IrL4Listener compiled once per apply (DESIGN: compile once, only look up per connection):
// schedulers built over each backend's endpoints, the SNI table, the trusted PROXY peers. A
// connection reads the compiled listener current at the moment it picks, so an apply swaps
// everything at once by replacing one reference.
import type { Random } from '../../core/random.js';
import { compileCidrs, type CidrSet } from '../../core/cidr.js';
import type { IrL4Backend, IrL4Listener, IrL4Route } from '../../ir/l4.js';
import type { EndpointActivity } from './endpoint-activity.js';
import { createScheduler, toEndpointSlots, type L4EndpointSlot, type L4PickContext, type L4Scheduler } from './scheduler.js';
import { SniRoutes } from './sni-routes.js';

export interface CompiledL4Backend {
  readonly ir: IrL4Backend;
  readonly scheduler: L4Scheduler;
}

export interface CompiledL4Route {
  readonly ir: IrL4Route;
  readonly backends: readonly CompiledL4Backend[];
}

export interface CompiledL4Listener {
  readonly ir: IrL4Listener;
  readonly routes: readonly CompiledL4Route[];
  readonly sni: SniRoutes<CompiledL4Route & { readonly sniHosts: readonly string[] }>;
  /** Peers whose PROXY header is read; undefined: nobody's. */
  readonly trusted: CidrSet | undefined;
  /** Every endpoint key any route may still pick: a connection to another one is draining. */
  readonly endpointKeys: ReadonlySet<string>;
}

export function compileL4Listener(ir: IrL4Listener, activity: EndpointActivity): CompiledL4Listener {
  const endpointKeys = new Set<string>();
  const routes = ir.routes.map((route): CompiledL4Route & { readonly sniHosts: readonly string[] } => ({
    ir: route,
    sniHosts: route.sniHosts,
    backends: route.backends.map((backend) => {
      if (backend.weight > 0) for (const s of toEndpointSlots(backend.endpoints)) if (s.weight > 0) endpointKeys.add(s.key);
      return { ir: backend, scheduler: createScheduler(ir.scheduler, backend.endpoints, activity) };
    }),
  }));
  const trusted = ir.acceptProxyProtocolFrom !== undefined && ir.acceptProxyProtocolFrom.length > 0 ? compileCidrs(ir.acceptProxyProtocolFrom) : undefined;
  return { ir, routes, sni: new SniRoutes(routes), trusted, endpointKeys };
}

/** The route a connection takes: by SNI on TLS listeners, else the first (TCP and UDP use one). */
export function selectL4Route(listener: CompiledL4Listener, serverName: string | undefined): CompiledL4Route | undefined {
  if (listener.ir.protocol === 'TLS') return listener.sni.select(serverName);
  return listener.routes[0];
}

export interface L4Pick {
  readonly backend: CompiledL4Backend;
  readonly slot: L4EndpointSlot;
}

/**
 * A backend by weight (Gateway API backendRef weights), then an endpoint by the listener's
 * scheduler, skipping endpoints in `tried`. A backend with nothing left to offer is set aside and
 * the draw repeats over the others, so a retry can cross backends.
 */
export function pickL4Endpoint(route: CompiledL4Route, ctx: L4PickContext, tried: ReadonlySet<string>, random: Random): L4Pick | undefined {
  const candidates = route.backends.filter((b) => b.ir.weight > 0);
  while (candidates.length > 0) {
    const total = candidates.reduce((sum, b) => sum + b.ir.weight, 0);
    let r = random.next() * total;
    let index = candidates.length - 1;
    for (let i = 0; i < candidates.length; i++) {
      r -= candidates[i]!.ir.weight;
      if (r < 0) {
        index = i;
        break;
      }
    }
    const backend = candidates[index]!;
    const slot = backend.scheduler.pick(ctx, tried);
    if (slot !== undefined) return { backend, slot };
    candidates.splice(index, 1);
  }
  return undefined;
}

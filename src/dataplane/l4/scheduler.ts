// The ipvs schedulers (ipvsadm(8); net/netfilter/ipvs/ip_vs_*.c) over one backend's endpoints,
// built once per apply. A pick sees the client and the address it connected to, and a set of
// endpoints already tried by this connection (a refused connect goes on to another).
import { assertNever } from '../../core/assert-never.js';
import type { IrL4Endpoint, IrL4Scheduler } from '../../ir/l4.js';
import { endpointKey } from '../upstream/endpoint-state.js';
import type { EndpointActivity } from './endpoint-activity.js';
import { createHashScheduler } from './scheduler-hash.js';
import { createLeastScheduler } from './scheduler-least.js';
import { createRoundRobinScheduler } from './scheduler-round-robin.js';
import type { L4EndpointSlot, L4Scheduler } from './scheduler-types.js';

export type { L4EndpointSlot, L4PickContext, L4Scheduler } from './scheduler-types.js';

export function toEndpointSlots(endpoints: readonly IrL4Endpoint[]): L4EndpointSlot[] {
  return endpoints.map((endpoint) => {
    const w = endpoint.weight ?? 1;
    // ipvs weights are integers; a weight of 0 quiesces the server (no new connections).
    return { endpoint, key: endpointKey(endpoint.address, endpoint.port), weight: Number.isFinite(w) && w > 0 ? Math.floor(w) : 0 };
  });
}

export function createScheduler(kind: IrL4Scheduler, endpoints: readonly IrL4Endpoint[], activity: EndpointActivity): L4Scheduler {
  const slots = toEndpointSlots(endpoints);
  switch (kind) {
    case 'rr':
    case 'wrr':
      return createRoundRobinScheduler(slots, kind === 'wrr');
    case 'lc':
    case 'wlc':
    case 'sed':
    case 'nq':
      return createLeastScheduler(kind, slots, activity);
    case 'sh':
    case 'dh':
    case 'maglev':
      return createHashScheduler(kind, slots);
    default:
      return assertNever(kind);
  }
}

// The hashing schedulers: sh and dh (ip_vs_sh.c, ip_vs_dh.c) and maglev (ip_vs_mh.c).
// sh and dh: a table of 256 buckets (IP_VS_SH_TAB_SIZE) filled in list order, each endpoint taking
// `weight` consecutive buckets, round and round until the table is full; the client address (sh)
// or the address it connected to (dh) picks a bucket. A client is sticky while the endpoint list
// stays the same; a change of the list moves many clients (hence maglev).
// maglev: the table of src/dataplane/upstream/lb/maglev.ts over the client address, at the size
// ipvs mh uses by default (4093: CONFIG_IP_VS_MH_TAB_INDEX 12); removing one endpoint of N moves
// its own clients and few others.
// A bucket whose endpoint this connection already tried (a refused connect) walks on to the next
// buckets, as sh's `sh-fallback` flag does, so the retry is still deterministic per client.
import { createEndpointState } from '../upstream/endpoint-state.js';
import { hashString } from '../upstream/lb/hash.js';
import { buildMaglevTable } from '../upstream/lb/maglev.js';
import type { L4EndpointSlot, L4Scheduler } from './scheduler-types.js';

const SH_TABLE_SIZE = 256;
export const L4_MAGLEV_TABLE_SIZE = 4093;

export function createHashScheduler(kind: 'sh' | 'dh' | 'maglev', slots: readonly L4EndpointSlot[]): L4Scheduler {
  const table = kind === 'maglev' ? maglevTable(slots) : bucketTable(slots);
  const len = table.length;
  return {
    pick(ctx, tried) {
      if (len === 0) return undefined;
      const start = hashString(kind === 'dh' ? ctx.destinationAddress : ctx.clientAddress) % len;
      const seen = new Set<number>();
      for (let step = 0; step < len && seen.size < slots.length; step++) {
        const owner = table[(start + step) % len]!;
        if (seen.has(owner)) continue;
        seen.add(owner);
        const s = slots[owner]!;
        if (!tried.has(s.key)) return s;
      }
      return undefined;
    },
  };
}

function bucketTable(slots: readonly L4EndpointSlot[]): Uint32Array {
  const owners = slots.map((s, i) => ({ i, w: s.weight })).filter((o) => o.w > 0);
  if (owners.length === 0) return new Uint32Array(0);
  const table = new Uint32Array(SH_TABLE_SIZE);
  let o = 0;
  let taken = 0;
  for (let b = 0; b < SH_TABLE_SIZE; b++) {
    table[b] = owners[o]!.i;
    if (++taken >= owners[o]!.w) {
      taken = 0;
      o = (o + 1) % owners.length;
    }
  }
  return table;
}

function maglevTable(slots: readonly L4EndpointSlot[]): Uint16Array | Uint32Array {
  // buildMaglevTable reads only each endpoint's key, so the table depends on addresses, not order.
  const states = slots.map((s) => createEndpointState(s.endpoint.address, s.endpoint.port, s.weight));
  const weights = Float64Array.from(slots, (s) => s.weight);
  return buildMaglevTable(states, weights, L4_MAGLEV_TABLE_SIZE);
}

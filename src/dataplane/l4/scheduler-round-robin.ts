// rr and wrr as ipvs does them (ip_vs_rr.c, ip_vs_wrr.c).
// rr: the next endpoint in list order, skipping quiesced ones (weight 0).
// wrr: a current weight `cw` starts at the largest weight and goes down by the gcd of the weights
// each time the cursor passes the head of the list; an endpoint is picked when its weight is at
// least `cw`. With weights 4,3,2 a period is A A B A B C A B C: shares follow weights, and the
// heavier endpoints are interleaved rather than sent a burst (ipvsadm(8)).
import type { L4EndpointSlot, L4Scheduler } from './scheduler-types.js';

export function createRoundRobinScheduler(slots: readonly L4EndpointSlot[], weighted: boolean): L4Scheduler {
  const n = slots.length;
  let maxWeight = 0;
  let step = 0;
  for (const s of slots) {
    if (s.weight > maxWeight) maxWeight = s.weight;
    step = gcd(step, s.weight);
  }
  let cursor = -1;
  let current = 0;
  if (!weighted) {
    return {
      pick(_ctx, tried) {
        for (let i = 0; i < n; i++) {
          cursor = (cursor + 1) % n;
          const s = slots[cursor]!;
          if (s.weight > 0 && !tried.has(s.key)) return s;
        }
        return undefined;
      },
    };
  }
  // One full sweep of every current weight visits each endpoint maxWeight/step times at most.
  const bound = n * (maxWeight / Math.max(step, 1) + 1);
  return {
    pick(_ctx, tried) {
      if (maxWeight === 0) return undefined;
      for (let i = 0; i < bound; i++) {
        cursor = (cursor + 1) % n;
        if (cursor === 0) {
          current -= step;
          if (current <= 0) current = maxWeight;
        }
        const s = slots[cursor]!;
        if (s.weight >= current && !tried.has(s.key)) return s;
      }
      return undefined;
    },
  };
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

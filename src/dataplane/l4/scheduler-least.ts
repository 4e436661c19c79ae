// The connection-counting ipvs schedulers (ip_vs_lc.c, ip_vs_wlc.c, ip_vs_sed.c, ip_vs_nq.c).
// ipvs counts active connections (ESTABLISHED) and inactive ones (other states) and weighs them
// 256:1 for lc and wlc; a userspace proxy only holds established connections, so the overhead is
// the active count. Quiesced endpoints (weight 0) never get new connections; ties go to the first
// in list order, as the kernel's strict `>` comparison does.
//   lc:  least active
//   wlc: least active / weight
//   sed: least (active + 1) / weight: an idle fast server beats an idle slow one
//   nq:  the first idle endpoint if any ("never queue"), else as sed
import type { EndpointActivity } from './endpoint-activity.js';
import type { L4EndpointSlot, L4Scheduler } from './scheduler-types.js';

export function createLeastScheduler(kind: 'lc' | 'wlc' | 'sed' | 'nq', slots: readonly L4EndpointSlot[], activity: EndpointActivity): L4Scheduler {
  const weighted = kind !== 'lc';
  const plusOne = kind === 'sed' || kind === 'nq' ? 1 : 0;
  return {
    pick(_ctx, tried) {
      let best: L4EndpointSlot | undefined;
      let bestOverhead = 0;
      for (const s of slots) {
        if (s.weight === 0 || tried.has(s.key)) continue;
        const active = activity.activeOf(s.key);
        if (kind === 'nq' && active === 0) return s;
        const overhead = active + plusOne;
        // h1/w1 > h2/w2 as h1*w2 > h2*w1, integers only (the kernel's form).
        if (best === undefined || (weighted ? bestOverhead * s.weight > overhead * best.weight : bestOverhead > overhead)) {
          best = s;
          bestOverhead = overhead;
        }
      }
      return best;
    },
  };
}

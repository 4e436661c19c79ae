// Each ipvs scheduler's distinctive behaviour, over the same interface (a conformance-style table
// in the manner of the LB policy tests).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { IrL4Endpoint, IrL4Scheduler } from '../../../src/ir/l4.js';
import { EndpointActivity } from '../../../src/dataplane/l4/endpoint-activity.js';
import { createScheduler, type L4PickContext } from '../../../src/dataplane/l4/scheduler.js';

const ep = (host: number, weight = 1): IrL4Endpoint => ({ address: `10.0.0.${host}`, port: 80, weight });
const ctx = (client = '192.0.2.1', destination = '198.51.100.1'): L4PickContext => ({ clientAddress: client, destinationAddress: destination });
const none = new Set<string>();

function picks(kind: IrL4Scheduler, endpoints: IrL4Endpoint[], n: number, activity = new EndpointActivity()): string[] {
  const s = createScheduler(kind, endpoints, activity);
  return Array.from({ length: n }, () => s.pick(ctx(), none)?.endpoint.address ?? 'none');
}

const short = (a: string): string => a.replace('10.0.0.', '');

test('rr cycles through the endpoints in order and skips weight 0', () => {
  assert.deepEqual(picks('rr', [ep(1), ep(2, 0), ep(3)], 5).map(short), ['1', '3', '1', '3', '1']);
});

test("wrr gives ipvs's interleaved sequence for weights 4,3,2 and shares that follow the weights", () => {
  // ipvsadm(8) and the LVS docs: A A B A B C A B C for weights 4, 3, 2.
  assert.deepEqual(picks('wrr', [ep(1, 4), ep(2, 3), ep(3, 2)], 9).map(short).join(''), '112123123');
  const counts = new Map<string, number>();
  for (const a of picks('wrr', [ep(1, 5), ep(2, 1), ep(3, 2)], 800)) counts.set(a, (counts.get(a) ?? 0) + 1);
  assert.deepEqual([counts.get('10.0.0.1'), counts.get('10.0.0.2'), counts.get('10.0.0.3')], [500, 100, 200]);
});

test('lc prefers the endpoint with the fewest active connections', () => {
  const activity = new EndpointActivity();
  for (const [host, n] of [[1, 3], [2, 1], [3, 2]] as const) for (let i = 0; i < n; i++) activity.open(`10.0.0.${host}:80`);
  assert.deepEqual(picks('lc', [ep(1), ep(2), ep(3)], 1, activity), ['10.0.0.2']);
  activity.close('10.0.0.1:80');
  activity.close('10.0.0.1:80');
  activity.close('10.0.0.1:80');
  assert.deepEqual(picks('lc', [ep(1), ep(2), ep(3)], 1, activity), ['10.0.0.1']);
});

test('wlc divides active connections by weight; lc does not', () => {
  const activity = new EndpointActivity();
  for (let i = 0; i < 3; i++) activity.open('10.0.0.1:80'); // 3 / weight 4
  activity.open('10.0.0.2:80'); // 1 / weight 1
  assert.deepEqual(picks('wlc', [ep(1, 4), ep(2, 1)], 1, activity), ['10.0.0.1']);
  assert.deepEqual(picks('lc', [ep(1, 4), ep(2, 1)], 1, activity), ['10.0.0.2']);
});

test('sed sends to an idle heavy endpoint where wlc takes the first idle one', () => {
  // All idle: wlc ties at 0 and takes the first; sed compares (0+1)/1 with (0+1)/3.
  assert.deepEqual(picks('wlc', [ep(1, 1), ep(2, 3)], 1), ['10.0.0.1']);
  assert.deepEqual(picks('sed', [ep(1, 1), ep(2, 3)], 1), ['10.0.0.2']);
});

test('nq picks an idle endpoint first, else as sed', () => {
  const activity = new EndpointActivity();
  activity.open('10.0.0.1:80'); // weight 10, one active: sed (1+1)/10 = 0.2 beats (0+1)/1
  assert.deepEqual(picks('sed', [ep(1, 10), ep(2, 1)], 1, activity), ['10.0.0.1']);
  assert.deepEqual(picks('nq', [ep(1, 10), ep(2, 1)], 1, activity), ['10.0.0.2']);
  activity.open('10.0.0.2:80');
  assert.deepEqual(picks('nq', [ep(1, 10), ep(2, 1)], 1, activity), ['10.0.0.1']);
});

test('sh is sticky per client and spreads different clients', () => {
  const s = createScheduler('sh', [ep(1), ep(2), ep(3)], new EndpointActivity());
  const seen = new Set<string>();
  for (let c = 1; c <= 50; c++) {
    const first = s.pick(ctx(`192.0.2.${c}`), none)!.key;
    for (let i = 0; i < 5; i++) assert.equal(s.pick(ctx(`192.0.2.${c}`), none)!.key, first);
    seen.add(first);
  }
  assert.equal(seen.size, 3);
});

test('dh sends every client of one destination to one endpoint', () => {
  const s = createScheduler('dh', [ep(1), ep(2), ep(3)], new EndpointActivity());
  const keys = new Set(Array.from({ length: 30 }, (_, c) => s.pick(ctx(`192.0.2.${c}`, '198.51.100.7'), none)!.key));
  assert.equal(keys.size, 1);
});

test('maglev moves few clients when an endpoint goes; sh moves many', () => {
  const all = [1, 2, 3, 4, 5].map((h) => ep(h));
  const fewer = all.filter((e) => e.address !== '10.0.0.3');
  const moved = (kind: IrL4Scheduler): number => {
    const before = createScheduler(kind, all, new EndpointActivity());
    const after = createScheduler(kind, fewer, new EndpointActivity());
    let n = 0;
    for (let c = 0; c < 2000; c++) {
      const client = `10.${(c >> 8) & 255}.${c & 255}.9`;
      const was = before.pick(ctx(client), none)!.key;
      if (was !== '10.0.0.3:80' && after.pick(ctx(client), none)!.key !== was) n++;
    }
    return n;
  };
  const maglevMoved = moved('maglev');
  const shMoved = moved('sh');
  assert.ok(maglevMoved < 2000 * 0.8 * 0.1, `maglev moved ${maglevMoved} clients that were not on the removed endpoint`);
  assert.ok(shMoved > maglevMoved * 3, `sh moved ${shMoved}, maglev ${maglevMoved}`);
});

test('every scheduler skips endpoints already tried and returns none when all were', () => {
  for (const kind of ['rr', 'wrr', 'lc', 'wlc', 'sh', 'dh', 'sed', 'nq', 'maglev'] as const) {
    const s = createScheduler(kind, [ep(1), ep(2)], new EndpointActivity());
    const first = s.pick(ctx(), none)!;
    const second = s.pick(ctx(), new Set([first.key]));
    assert.ok(second !== undefined && second.key !== first.key, kind);
    assert.equal(s.pick(ctx(), new Set(['10.0.0.1:80', '10.0.0.2:80'])), undefined, kind);
    assert.equal(createScheduler(kind, [ep(1, 0)], new EndpointActivity()).pick(ctx(), none), undefined, `${kind}: weight 0`);
  }
});

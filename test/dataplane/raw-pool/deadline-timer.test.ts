// DeadlineTimer: one timer per connection whose deadline moves per request (deadline-timer.ts).
// Real timers, short durations: what matters is that a moved deadline is honoured both ways.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeadlineTimer } from '../../../src/dataplane/upstream/raw-pool/deadline-timer.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function firings(): { timer: DeadlineTimer; at: number[]; start: number } {
  const at: number[] = [];
  const start = performance.now();
  const timer = new DeadlineTimer(() => at.push(performance.now() - start));
  return { timer, at, start };
}

test('fires once at its deadline', async () => {
  const { timer, at } = firings();
  timer.set(40);
  await sleep(120);
  assert.equal(at.length, 1);
  assert.ok(at[0]! >= 39, `fired at ${at[0]} ms`);
  assert.equal(timer.isSet, false);
});

test('a deadline moved later is honoured: the early timer re-arms for what is left', async () => {
  const { timer, at } = firings();
  timer.set(60);
  await sleep(40);
  timer.set(60); // now due ~100 ms after the start
  await sleep(40);
  assert.equal(at.length, 0, 'not at the first deadline');
  await sleep(80);
  assert.equal(at.length, 1);
  assert.ok(at[0]! >= 99, `fired at ${at[0]} ms`);
});

test('a deadline moved earlier fires at the earlier time', async () => {
  const { timer, at } = firings();
  timer.set(5_000);
  timer.set(30);
  await sleep(100);
  assert.equal(at.length, 1);
  assert.ok(at[0]! < 1_000, `fired at ${at[0]} ms`);
  timer.stop();
});

test('cleared: nothing fires; set again after a clear: fires', async () => {
  const { timer, at } = firings();
  timer.set(30);
  timer.clear();
  await sleep(80);
  assert.equal(at.length, 0);
  timer.set(20);
  await sleep(80);
  assert.equal(at.length, 1);
});

test('stop drops the armed timer', async () => {
  const { timer, at } = firings();
  timer.set(20);
  timer.stop();
  await sleep(60);
  assert.equal(at.length, 0);
});

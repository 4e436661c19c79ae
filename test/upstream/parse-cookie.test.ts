import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findCookie } from '../../src/dataplane/upstream/lb/parse-cookie.js';

describe('findCookie', () => {
  const cases: [header: string | string[] | undefined, name: string, want: string | undefined][] = [
    ['session=abc', 'session', 'abc'],
    ['a=1; session=abc; b=2', 'session', 'abc'],
    ['a=1;session=abc', 'session', 'abc'],
    ['a=1;  session = abc ;b=2', 'session', 'abc'],
    ['xsession=1; session=2', 'session', '2'],
    ['session_id=1; session=2', 'session', '2'],
    ['a=session=3; session=4', 'session', '4'],
    ['session=; a=1', 'session', ''],
    ['session=1; session=2', 'session', '1'],
    ['Session=1', 'session', undefined],
    ['session', 'session', undefined],
    ['a=1; b=2', 'session', undefined],
    ['sid="quoted value"', 'sid', '"quoted value"'],
    ['sid=a=b', 'sid', 'a=b'],
    ['', 'sid', undefined],
    [';;; sid=1', 'sid', '1'],
    ['a=1; sid=1;', 'sid', '1'],
    [undefined, 'sid', undefined],
    [['a=1', 'sid=2'], 'sid', '2'],
    [['sid=1', 'sid=2'], 'sid', '1'],
    ['sid=1', '', undefined],
  ];
  for (const [header, name, want] of cases) {
    it(`${JSON.stringify(header)} → ${name}=${JSON.stringify(want)}`, () => {
      assert.equal(findCookie(header, name), want);
    });
  }
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeRequestTarget, removeDotSegments } from '../../src/dataplane/http/normalize-path.js';

function ok(target: string): { path: string; query: string; authority: string } {
  const r = normalizeRequestTarget(target);
  assert.equal(r.kind, 'ok', `${JSON.stringify(target)}: ${r.kind === 'invalid' ? r.reason : ''}`);
  if (r.kind !== 'ok') throw new Error('unreachable');
  return { path: r.path, query: r.query, authority: r.authority };
}

function invalid(target: string): string {
  const r = normalizeRequestTarget(target);
  assert.equal(r.kind, 'invalid', `${JSON.stringify(target)} should be invalid, got ${JSON.stringify(r)}`);
  return r.kind === 'invalid' ? r.reason : '';
}

describe('normalizeRequestTarget: traversal attempts', () => {
  const table: [string, string][] = [
    ['/public/../admin', '/admin'],
    ['/public/%2e%2e/admin', '/admin'],
    ['/public/%2E%2E/admin', '/admin'],
    ['/public/.%2e/admin', '/admin'],
    ['/public/%2e./admin', '/admin'],
    ['/public/%2e/admin', '/public/admin'],
    ['/public/../../../admin', '/admin'],
    ['/public/..', '/'],
    ['/public/%2e%2e', '/'],
    ['/..', '/'],
    ['/../admin', '/admin'],
    ['/public%2F..%2Fadmin', '/public%2F..%2Fadmin'],
    ['/public%2f..%2fadmin', '/public%2F..%2Fadmin'],
    ['/public/..%2Fadmin', '/public/..%2Fadmin'],
    ['/public/%2e%2e%2fadmin', '/public/..%2Fadmin'],
    ['/public/..;/admin', '/public/..;/admin'], // `..;` is a segment of its own (Tomcat strips ;): no removal
  ];
  for (const [target, want] of table) {
    it(`${target} → ${want}`, () => assert.equal(ok(target).path, want));
  }
});

describe('normalizeRequestTarget: percent-encoding (RFC 3986 §6.2.2.1-2)', () => {
  const table: [string, string][] = [
    ['/%7Euser', '/~user'],
    ['/%7euser', '/~user'],
    ['/%41%42%43%61%62%63%30%39', '/ABCabc09'],
    ['/a%2Db%5Fc%2E', '/a-b_c.'],
    ['/a%20b', '/a%20b'],
    ['/a%3fb', '/a%3Fb'],
    ['/caf%c3%a9', '/caf%C3%A9'],
    ['/%25', '/%25'],
    ['/%2541', '/%2541'], // no double decoding
    ['/a%2fb', '/a%2Fb'],
    ['/%00', '/%00'],
  ];
  for (const [target, want] of table) {
    it(`${target} → ${want}`, () => assert.equal(ok(target).path, want));
  }
});

describe('normalizeRequestTarget: dot segments and slashes (RFC 3986 §5.2.4)', () => {
  const table: [string, string][] = [
    ['/a/./b', '/a/b'],
    ['/a/b/c/./../../g', '/a/g'], // §5.2.4 example
    ['/mid/content=5/../6', '/mid/6'], // §5.2.4 example, made absolute
    ['/a/b/', '/a/b/'],
    ['/a/b/.', '/a/b/'],
    ['/a/b/..', '/a/'],
    ['/a/b/../', '/a/'],
    ['/.', '/'],
    ['/./', '/'],
    ['/', '/'],
    ['//', '//'],
    ['/a//b', '/a//b'],
    ['/a//../b', '/a/b'],
    ['//..//a', '//a'], // the `..` removes the empty segment before it
    ['/.well-known/acme', '/.well-known/acme'],
    ['/a/.../b', '/a/.../b'],
    ['/a/.b/..c/b.', '/a/.b/..c/b.'],
  ];
  for (const [target, want] of table) {
    it(`${target} → ${want}`, () => assert.equal(ok(target).path, want));
  }
});

describe('normalizeRequestTarget: RFC 3986 §5.4 examples that apply to paths', () => {
  // Base URI http://a/b/c/d;p?q. Each relative reference is merged with the base path by hand
  // (§5.2.3: base path up to its last "/" + reference), then must normalise to the §5.4 result.
  const table: [reference: string, merged: string, want: string][] = [
    // §5.4.1 normal examples
    ['g', '/b/c/g', '/b/c/g'],
    ['./g', '/b/c/./g', '/b/c/g'],
    ['g/', '/b/c/g/', '/b/c/g/'],
    ['/g', '/g', '/g'],
    ['?y', '/b/c/d;p?y', '/b/c/d;p?y'],
    ['g?y', '/b/c/g?y', '/b/c/g?y'],
    [';x', '/b/c/;x', '/b/c/;x'],
    ['g;x', '/b/c/g;x', '/b/c/g;x'],
    ['g;x?y', '/b/c/g;x?y', '/b/c/g;x?y'],
    ['.', '/b/c/.', '/b/c/'],
    ['./', '/b/c/./', '/b/c/'],
    ['..', '/b/c/..', '/b/'],
    ['../', '/b/c/../', '/b/'],
    ['../g', '/b/c/../g', '/b/g'],
    ['../..', '/b/c/../..', '/'],
    ['../../', '/b/c/../../', '/'],
    ['../../g', '/b/c/../../g', '/g'],
    // §5.4.2 abnormal examples
    ['../../../g', '/b/c/../../../g', '/g'],
    ['../../../../g', '/b/c/../../../../g', '/g'],
    ['/./g', '/./g', '/g'],
    ['/../g', '/../g', '/g'],
    ['g.', '/b/c/g.', '/b/c/g.'],
    ['.g', '/b/c/.g', '/b/c/.g'],
    ['g..', '/b/c/g..', '/b/c/g..'],
    ['..g', '/b/c/..g', '/b/c/..g'],
    ['./../g', '/b/c/./../g', '/b/g'],
    ['./g/.', '/b/c/./g/.', '/b/c/g/'],
    ['g/./h', '/b/c/g/./h', '/b/c/g/h'],
    ['g/../h', '/b/c/g/../h', '/b/c/h'],
    ['g;x=1/./y', '/b/c/g;x=1/./y', '/b/c/g;x=1/y'],
    ['g;x=1/../y', '/b/c/g;x=1/../y', '/b/c/y'],
    ['g?y/./x', '/b/c/g?y/./x', '/b/c/g?y/./x'], // dots in the query are data
    ['g?y/../x', '/b/c/g?y/../x', '/b/c/g?y/../x'],
  ];
  for (const [reference, merged, want] of table) {
    it(`"${reference}" (${merged}) → ${want}`, () => {
      const r = ok(merged);
      assert.equal(r.path + r.query, want);
    });
  }
  it('fragments (g#s, g?y#s, g#s/../x) are refused: a request-target has none', () => {
    for (const t of ['/b/c/g#s', '/b/c/g?y#s', '/b/c/g#s/../x']) assert.match(invalid(t), /fragment/);
  });
});

describe('normalizeRequestTarget: query', () => {
  it('splits off the query with its "?" and leaves it as sent', () => {
    assert.deepEqual(ok('/a/../b?x=%2e%2e&y=/../z'), { path: '/b', query: '?x=%2e%2e&y=/../z', authority: '' });
    assert.deepEqual(ok('/a?'), { path: '/a', query: '?', authority: '' });
    assert.deepEqual(ok('/a?b?c'), { path: '/a', query: '?b?c', authority: '' });
    assert.deepEqual(ok('/a/..?q'), { path: '/', query: '?q', authority: '' });
    assert.deepEqual(ok('/a/.?q'), { path: '/a/', query: '?q', authority: '' });
  });
  it('validates query characters but not its escapes', () => {
    assert.equal(ok('/a?x=%zz').query, '?x=%zz');
    invalid('/a?x=1 2');
    invalid('/a?x=\u00e9');
    invalid('/a?x=\x7f');
  });
});

describe('normalizeRequestTarget: request-target forms (RFC 9112 §3.2)', () => {
  it('takes the path and authority of absolute-form', () => {
    assert.deepEqual(ok('http://example.com/a/../b?q=1'), { path: '/b', query: '?q=1', authority: 'example.com' });
    assert.deepEqual(ok('HTTPS://example.com:8443/x'), { path: '/x', query: '', authority: 'example.com:8443' });
    assert.deepEqual(ok('http://example.com'), { path: '/', query: '', authority: 'example.com' });
    assert.deepEqual(ok('http://example.com?q'), { path: '/', query: '?q', authority: 'example.com' });
    assert.deepEqual(ok('http://[::1]:80/p'), { path: '/p', query: '', authority: '[::1]:80' });
  });
  it('refuses other forms and malformed absolute-form', () => {
    for (const t of ['*', 'example.com:443', 'a/b', '', 'ftp://example.com/', 'http:/x', 'http:///x', 'http://user@host/x', 'http://ho st/x', 'http://host#f']) {
      invalid(t);
    }
  });
});

describe('normalizeRequestTarget: refused characters and escapes', () => {
  const bad: [string, RegExp][] = [
    ['/a%zz', /percent/],
    ['/a%2', /percent/],
    ['/a%', /percent/],
    ['/a%g0', /percent/],
    ['/a b', /0x20/],
    ['/a\tb', /0x09/],
    ['/a\x00b', /0x00/],
    ['/a\x7f', /0x7f/],
    ['/caf\u00e9', /0xe9/],
    ['/\u2028', /0x2028/],
    ['/a\r\nb', /0x0d/],
  ];
  for (const [target, reason] of bad) {
    it(`refuses ${JSON.stringify(target)}`, () => assert.match(invalid(target), reason));
  }
});

describe('normalizeRequestTarget: fast path', () => {
  it('returns the target itself when nothing needs normalising', () => {
    for (const t of ['/', '/api/v1/users/42', '/a.b/c.d', '/.well-known/x', '/a//b', '/x:y@z!$&\'()*+,;=~_-']) {
      const r = ok(t);
      assert.equal(r.path, t);
      assert.equal(r.query, '');
    }
  });
  it('removeDotSegments matches the RFC algorithm on random dot-heavy paths', () => {
    // A literal transcription of RFC 3986 §5.2.4 steps A-E as the oracle.
    const rfc = (input: string): string => {
      let out = '';
      while (input.length > 0) {
        if (input.startsWith('../')) input = input.slice(3);
        else if (input.startsWith('./')) input = input.slice(2);
        else if (input.startsWith('/./')) input = input.slice(2);
        else if (input === '/.') input = '/';
        else if (input.startsWith('/../')) {
          input = input.slice(3);
          out = out.slice(0, Math.max(0, out.lastIndexOf('/')));
        } else if (input === '/..') {
          input = '/';
          out = out.slice(0, Math.max(0, out.lastIndexOf('/')));
        } else if (input === '.' || input === '..') input = '';
        else {
          const next = input.indexOf('/', input.startsWith('/') ? 1 : 0);
          const end = next === -1 ? input.length : next;
          out += input.slice(0, end);
          input = input.slice(end);
        }
      }
      return out;
    };
    const parts = ['a', 'b', '.', '..', '', '...', '.x'];
    let seed = 12345;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed % n);
    for (let i = 0; i < 2000; i++) {
      const segments = Array.from({ length: 1 + rand(6) }, () => parts[rand(parts.length)]!);
      const path = `/${segments.join('/')}`;
      assert.equal(removeDotSegments(path), rfc(path) || '/', path);
    }
  });
});

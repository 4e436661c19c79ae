import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { translate } from '../../src/translate/translate.js';
import { GOLDEN_OPTIONS, snapshotOf } from './golden-harness.js';
import { backendOf, matchRoute } from './ir-route-matcher.js';

// The "Examples" table of https://kubernetes.io/docs/concepts/services-networking/ingress/
// (path types): each row's paths go to their own Service; a defaultBackend catches the rest.
type Row = readonly [type: 'Prefix' | 'Exact' | 'Mixed', paths: readonly string[], request: string, match: string | null];
const ROWS: readonly Row[] = [
  ['Prefix', ['/'], '/', '/'],
  ['Prefix', ['/'], '/anything/at/all', '/'],
  ['Exact', ['/foo'], '/foo', '/foo'],
  ['Exact', ['/foo'], '/bar', null],
  ['Exact', ['/foo'], '/foo/', null],
  ['Exact', ['/foo/'], '/foo', null],
  ['Prefix', ['/foo'], '/foo', '/foo'],
  ['Prefix', ['/foo'], '/foo/', '/foo'],
  ['Prefix', ['/foo/'], '/foo', '/foo/'],
  ['Prefix', ['/foo/'], '/foo/', '/foo/'],
  ['Prefix', ['/aaa/bb'], '/aaa/bbb', null],
  ['Prefix', ['/aaa/bbb'], '/aaa/bbb', '/aaa/bbb'],
  ['Prefix', ['/aaa/bbb/'], '/aaa/bbb', '/aaa/bbb/'],
  ['Prefix', ['/aaa/bbb'], '/aaa/bbb/', '/aaa/bbb'],
  ['Prefix', ['/aaa/bbb'], '/aaa/bbb/ccc', '/aaa/bbb'],
  ['Prefix', ['/aaa/bbb'], '/aaa/bbbxyz', null],
  ['Prefix', ['/', '/aaa'], '/aaa/ccc', '/aaa'],
  ['Prefix', ['/', '/aaa', '/aaa/bbb'], '/aaa/bbb', '/aaa/bbb'],
  ['Prefix', ['/', '/aaa', '/aaa/bbb'], '/ccc', '/'],
  ['Prefix', ['/aaa'], '/ccc', null],
  ['Mixed', ['/foo'], '/foo', 'exact /foo'],
];

function serviceFor(path: string, type: string): string {
  const slug = path.split('/').filter(Boolean).join('-') || 'root';
  return `path-${slug}${path.length > 1 && path.endsWith('/') ? '-slash' : ''}-${type.toLowerCase()}`;
}

for (const [type, paths, request, match] of ROWS) {
  test(`${type} ${paths.join(', ')} | request ${request} | ${match ?? 'no match'}`, () => {
    const entries = type === 'Mixed' ? paths.flatMap((p) => [[p, 'Prefix'], [p, 'Exact']] as const) : paths.map((p) => [p, type] as const);
    const backend = (name: string) => ({ service: { name, port: { number: 80 } } });
    const objects: unknown[] = [
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: 'table' },
        spec: {
          defaultBackend: backend('default-backend'),
          rules: [{ http: { paths: entries.map(([p, t]) => ({ path: p, pathType: t, backend: backend(serviceFor(p, t)) })) } }],
        },
      },
    ];
    for (const name of new Set(['default-backend', ...entries.map(([p, t]) => serviceFor(p, t))])) {
      objects.push({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ port: 80 }] } });
    }
    const result = translate(snapshotOf(objects.map((o) => stringify(o)).join('---\n'), 'table.yaml'), GOLDEN_OPTIONS);
    const got = backendOf(matchRoute(result.ir, 'ingress/http', 'any.example', request))?.service;
    const want = match === null ? 'default-backend' : match.startsWith('exact ') ? serviceFor(match.slice(6), 'Exact') : serviceFor(match, type);
    assert.equal(got, want);
  });
}

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { hasErrors } from '../../src/core/diagnostic.js';
import { translate } from '../../src/translate/translate.js';
import { GOLDEN_OPTIONS, snapshotOf } from './golden-harness.js';
import { backendOf, matchRoute } from './ir-route-matcher.js';
import { repoRoot } from '../e2e/cli-harness.js';

// The Ingress cases of the project's conformance copy (test/conformance/cases/ingress: the doc's
// examples and the ingress-controller-conformance features), checked on the IR: which Service
// each request would reach. The end-to-end run over sockets is `npm run conformance`.
const CASES_DIR = path.join(repoRoot(), 'test', 'conformance', 'cases', 'ingress');

interface ServiceRef {
  name: string;
  port: { name?: string; number?: number };
}
interface Backend {
  service?: ServiceRef;
}
interface IngressDoc {
  kind: string;
  metadata: { name: string };
  spec: { ingressClassName?: string; defaultBackend?: Backend; rules?: { http?: { paths: { backend: Backend }[] } }[] };
}
interface ConformanceCase {
  name: string;
  request: { host?: string; path: string; hostIsGatewayAddress?: boolean };
  expect: { backend?: string; servicePort?: number; status?: number; matched?: boolean; notServedBy?: string };
}

/** What the runner adds (manifests.mjs): our default IngressClass, and a Service + ready Pod per backend. */
function clusterFor(manifests: string): string {
  const docs = manifests.split(/^---$/m).map((d) => parse(d) as IngressDoc | null).filter((d): d is IngressDoc => d !== null);
  const extra: unknown[] = [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      metadata: { name: 'isthmus', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } },
      spec: { controller: 'isthmus.dev/ingress-controller' },
    },
  ];
  const services = new Map<string, { name?: string; port: number; targetPort: number }[]>();
  for (const ingress of docs) {
    const cls = ingress.spec.ingressClassName;
    if (cls === 'nginx-example' || cls === 'nginx') ingress.spec.ingressClassName = 'isthmus';
    const refs = [ingress.spec.defaultBackend, ...(ingress.spec.rules ?? []).flatMap((r) => r.http?.paths.map((p) => p.backend) ?? [])];
    for (const ref of refs) {
      if (!ref?.service) continue;
      const ports = services.get(ref.service.name) ?? [];
      const { name, number } = ref.service.port;
      if (!ports.some((p) => (name ? p.name === name : p.port === number))) {
        ports.push({ name: name ?? `port-${number}`, port: number ?? 8080, targetPort: 3000 });
      }
      services.set(ref.service.name, ports);
    }
  }
  let ip = 1;
  for (const [name, ports] of services) {
    extra.push({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app: name }, ports } });
    extra.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `${name}-abcdefghij-abcde`, labels: { app: name } },
      spec: { containers: [{ name: 'echo' }] },
      status: { phase: 'Running', podIP: `127.0.10.${ip++}`, conditions: [{ type: 'Ready', status: 'True' }] },
    });
  }
  return `${docs.map((d) => stringify(d)).join('---\n')}---\n${extra.map((d) => stringify(d)).join('---\n')}`;
}

describe('conformance cases on the IR', () => {
  // Missing cases fail the run: a moved folder must not turn this suite off in silence.
  assert.ok(existsSync(CASES_DIR), `${CASES_DIR} not found`);
  const files = readdirSync(CASES_DIR).filter((f) => f.endsWith('.json')).sort();
  assert.ok(files.length > 0, `no case in ${CASES_DIR}`);
  for (const file of files) {
    const data = JSON.parse(readFileSync(path.join(CASES_DIR, file), 'utf8')) as { manifests: string; cases: ConformanceCase[] };
    test(file, () => {
      const snapshot = snapshotOf(clusterFor(data.manifests), file);
      assert.deepEqual(snapshot.diagnostics, []);
      const result = translate(snapshot, GOLDEN_OPTIONS);
      // The runner creates the TLS Secrets; here only their absence may be reported.
      assert.ok(!hasErrors(result.diagnostics.filter((d) => d.code !== 'ERR_TLS_SECRET_NOT_FOUND')), JSON.stringify(result.diagnostics));
      for (const c of data.cases) {
        const host = c.request.hostIsGatewayAddress ? '127.0.0.1' : (c.request.host ?? '127.0.0.1');
        const route = matchRoute(result.ir, 'ingress/http', host, c.request.path);
        const got = backendOf(route);
        const label = `${c.name}: ${host}${c.request.path} -> ${route?.name ?? 'no route'}`;
        if (c.expect.backend !== undefined) {
          assert.equal(got?.service, c.expect.backend, label);
          if (c.expect.servicePort !== undefined) assert.equal(got?.port, c.expect.servicePort, label);
        } else if (c.expect.matched === false || c.expect.status === 404) {
          assert.equal(route, undefined, label);
        } else if (c.expect.notServedBy !== undefined) {
          assert.notEqual(got?.service, c.expect.notServedBy, label);
        } else {
          assert.fail(`${label}: no expectation this test understands`);
        }
      }
    });
  }
});

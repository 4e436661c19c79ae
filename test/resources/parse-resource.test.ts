import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseResource } from '../../src/resources/parse-resource.js';
import { readSecretValue } from '../../src/resources/secret.js';
import type { Resource } from '../../src/resources/resource.js';

function parsed(raw: unknown): Resource {
  const outcome = parseResource(raw, 'test.yaml#0');
  assert.equal(outcome.kind, 'parsed', JSON.stringify(outcome));
  if (outcome.kind !== 'parsed') throw new Error('unreachable');
  return outcome.resource;
}

function rejected(raw: unknown) {
  const outcome = parseResource(raw, 'test.yaml#3');
  assert.equal(outcome.kind, 'rejected');
  if (outcome.kind !== 'rejected') throw new Error('unreachable');
  return outcome.diagnostics;
}

const ingress = (paths: unknown[]) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name: 'shop' },
  spec: { rules: [{ host: 'a.example.com', http: { paths } }] },
});
const okPath = { path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } };

describe('parseResource', () => {
  test('every supported kind parses, namespaced kinds default to "default"', () => {
    const objects: unknown[] = [
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ port: 80 }] } },
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } },
      { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'e' }, addressType: 'IPv4' },
      { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'e' } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n', namespace: 'ignored' } },
      ingress([okPath]),
      { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'c' }, spec: { controller: 'x/y' } },
    ];
    const resources = objects.map(parsed);
    assert.deepEqual(
      resources.map((r) => [r.kind, r.metadata.namespace, r.source]),
      [
        ['Service', 'default', 'test.yaml#0'],
        ['Pod', 'default', 'test.yaml#0'],
        ['EndpointSlice', 'default', 'test.yaml#0'],
        ['Endpoints', 'default', 'test.yaml#0'],
        ['Secret', 'default', 'test.yaml#0'],
        ['Namespace', undefined, 'test.yaml#0'],
        ['Ingress', 'default', 'test.yaml#0'],
        ['IngressClass', undefined, 'test.yaml#0'],
      ],
    );
  });

  test('defaults: Service type and protocol, labels and annotations, Secret type', () => {
    const service = parsed({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'shop' }, spec: { ports: [{ port: 80 }] } });
    assert.equal(service.kind, 'Service');
    if (service.kind !== 'Service') return;
    assert.equal(service.spec.type, 'ClusterIP');
    assert.equal(service.spec.ports[0]?.protocol, 'TCP');
    assert.deepEqual(service.metadata.labels, {});
    assert.equal(service.metadata.namespace, 'shop');
    const secret = parsed({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { a: 'aGk=' }, stringData: { b: 'plain' } });
    if (secret.kind !== 'Secret') return assert.fail('not a Secret');
    assert.equal(secret.type, 'Opaque');
    assert.equal(readSecretValue(secret, 'a')?.toString(), 'hi');
    assert.equal(readSecretValue(secret, 'b')?.toString(), 'plain');
  });

  test('null fields count as absent (YAML `http:` with nothing after it)', () => {
    const outcome = parseResource(
      { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'x', labels: null }, spec: { rules: [{ host: 'a.b', http: null }] } },
      's',
    );
    assert.equal(outcome.kind, 'parsed');
  });

  test('a schema violation names the field path, what was expected and what was found', () => {
    const [d, ...rest] = rejected(ingress([okPath, { ...okPath, pathType: 'Regex' }]));
    assert.equal(rest.length, 0);
    assert.equal(d?.code, 'ERR_RESOURCE_INVALID');
    assert.equal(d?.severity, 'error');
    assert.equal(d?.path, 'spec.rules[0].http.paths[1].pathType');
    assert.match(d?.message ?? '', /Exact.*Prefix.*ImplementationSpecific.*found "Regex"/);
    assert.deepEqual(d?.object, { group: 'networking.k8s.io', kind: 'Ingress', namespace: 'default', name: 'shop' });
    assert.equal(d?.source, 'test.yaml#3');
  });

  test('missing required fields and exactly-one-of rules', () => {
    const [missing] = rejected(ingress([{ path: '/', backend: okPath.backend }]));
    assert.equal(missing?.path, 'spec.rules[0].http.paths[0].pathType');
    assert.match(missing?.message ?? '', /required/);
    const [both] = rejected(ingress([{ ...okPath, backend: { service: { name: 'web', port: { number: 80, name: 'http' } } } }]));
    assert.equal(both?.path, 'spec.rules[0].http.paths[0].backend.service.port');
    assert.match(both?.message ?? '', /exactly one of port.name or port.number/);
  });

  test('annotation keys are quoted in paths', () => {
    const [d] = rejected({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's', annotations: { 'example.com/x': 1 } } });
    assert.equal(d?.path, 'metadata.annotations["example.com/x"]');
  });

  test('unknown apiVersion/kind is a warning that names the object', () => {
    const [d] = rejected({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop' } });
    assert.equal(d?.severity, 'warning');
    assert.equal(d?.code, 'ERR_RESOURCE_UNKNOWN_KIND');
    assert.deepEqual(d?.object, { group: 'apps', kind: 'Deployment', namespace: 'shop', name: 'web' });
    const [old] = rejected({ apiVersion: 'networking.k8s.io/v1beta1', kind: 'Ingress', metadata: { name: 'x' } });
    assert.match(old?.message ?? '', /reads networking\.k8s\.io\/v1 Ingress/);
  });

  test('something that is not an object is an error without an object reference', () => {
    for (const raw of ['text', 42, [1], { kind: 'Service' }]) {
      const [d] = rejected(raw);
      assert.equal(d?.code, 'ERR_RESOURCE_INVALID');
      assert.equal(d?.object, undefined);
    }
  });

  test('Kubernetes validation rules: names, ports, ExternalName, base64', () => {
    assert.equal(rejected({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'Bad_Name' } })[0]?.path, 'metadata.name');
    const multi = rejected({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ port: 80 }, { name: 'b', port: 81 }] } });
    assert.equal(multi[0]?.path, 'spec.ports[0].name');
    const ext = rejected({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { type: 'ExternalName' } });
    assert.equal(ext[0]?.path, 'spec.externalName');
    const b64 = rejected({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { 'tls.crt': 'no way!' } });
    assert.equal(b64[0]?.path, 'data["tls.crt"]');
    const ip = rejected({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, status: { podIP: '127.0.0.300' } });
    assert.equal(ip[0]?.path, 'status.podIP');
  });
});

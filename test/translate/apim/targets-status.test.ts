// targetRefs that do not resolve never crash the translation: each gets a diagnostic naming the
// field path and an ancestor entry with Accepted False (TargetNotFound or Invalid), and the
// policy's other targets still apply. Ingress and VirtualService targets cover their routes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authnOf, authPolicy, BASE, CART_ROUTE, route, routes, run, SHOP, statusOf } from './apim-fixtures.js';

test('missing objects, missing sections and unsupported kinds: diagnostics + Accepted False, the valid target still applies', () => {
  const targets = `[
    {group: gateway.networking.k8s.io, kind: HTTPRoute, name: nope},
    {group: gateway.networking.k8s.io, kind: HTTPRoute, name: shop, sectionName: checkout},
    {group: gateway.networking.k8s.io, kind: Gateway, name: gw, sectionName: private},
    {group: "", kind: Service, name: web},
    ${SHOP}]`;
  const { ir, statuses, diagnostics } = run(BASE + authPolicy('p', targets));
  assert.deepEqual(
    diagnostics.map((d) => [d.code, d.path]),
    [
      ['ERR_POLICY_TARGET_NOT_FOUND', 'spec.targetRefs[0]'],
      ['ERR_POLICY_TARGET_NOT_FOUND', 'spec.targetRefs[1]'],
      ['ERR_POLICY_TARGET_NOT_FOUND', 'spec.targetRefs[2]'],
      ['ERR_POLICY_UNSUPPORTED', 'spec.targetRefs[3]'],
    ],
  );
  assert.match(diagnostics[1]!.message, /HTTPRoute "shop" has no rule named "checkout" \(rule names: cart, catalog\)/);
  assert.match(diagnostics[2]!.message, /Gateway "gw" has no listener named "private" \(listeners: public, internal\)/);
  assert.match(diagnostics[3]!.message, /target kind Service core is not supported/);
  assert.equal(authnOf(route(ir, 'public', CART_ROUTE))?.policy, 'authpolicy/default/p');
  const ancestors = statusOf(statuses, 'AuthPolicy', 'p').status.ancestors;
  const byName = new Map(ancestors.map((a) => [`${a.ancestorRef.kind}/${a.ancestorRef.name}/${a.ancestorRef.sectionName ?? ''}`, a.conditions[0]!]));
  assert.deepEqual([...byName.keys()].sort(), ['Gateway/gw/', 'Gateway/gw/private', 'HTTPRoute/nope/', 'HTTPRoute/shop/checkout', 'Service/web/']);
  assert.equal(byName.get('Gateway/gw/')!.status, 'True');
  assert.deepEqual([byName.get('HTTPRoute/nope/')!.status, byName.get('HTTPRoute/nope/')!.reason], ['False', 'TargetNotFound']);
  assert.deepEqual([byName.get('Gateway/gw/private')!.status, byName.get('Gateway/gw/private')!.reason], ['False', 'TargetNotFound']);
  assert.deepEqual([byName.get('Service/web/')!.status, byName.get('Service/web/')!.reason], ['False', 'Invalid']);
});

test('a policy whose only target does not exist applies nowhere and says why', () => {
  const { ir, statuses } = run(BASE + authPolicy('lost', '[{group: gateway.networking.k8s.io, kind: GRPCRoute, name: ghost}]'));
  assert.ok([...routes(ir).values()].every((r) => authnOf(r) === undefined));
  const [a] = statusOf(statuses, 'AuthPolicy', 'lost').status.ancestors;
  assert.deepEqual([a!.ancestorRef.kind, a!.conditions[0]!.reason], ['GRPCRoute', 'TargetNotFound']);
  assert.match(a!.conditions[0]!.message, /^spec\.targetRefs\[0\]: GRPCRoute "ghost" not found in namespace "default"/);
});

const INGRESS = `---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: legacy, namespace: default}
spec:
  ingressClassName: isthmus
  rules:
    - host: legacy.test
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
`;

test('an Ingress target covers its paths; the ancestor is the Ingress; a sectionName on it is Invalid', () => {
  const { ir, statuses, diagnostics } = run(BASE + INGRESS + authPolicy('ing', '[{group: networking.k8s.io, kind: Ingress, name: legacy}]') + authPolicy('ing-section', '[{group: networking.k8s.io, kind: Ingress, name: legacy, sectionName: foo}]'));
  const r = routes(ir).get('ingress/http|ingress/default/legacy/rule/0/path/0');
  assert.equal(r && authnOf(r)?.policy, 'authpolicy/default/ing');
  const [a] = statusOf(statuses, 'AuthPolicy', 'ing').status.ancestors;
  assert.deepEqual([a!.ancestorRef.group, a!.ancestorRef.kind, a!.ancestorRef.name, a!.conditions[0]!.status], ['networking.k8s.io', 'Ingress', 'legacy', 'True']);
  assert.deepEqual(diagnostics.map((d) => [d.code, d.object?.name]), [['ERR_POLICY_UNSUPPORTED', 'ing-section']]);
  assert.equal(statusOf(statuses, 'AuthPolicy', 'ing-section').status.ancestors[0]!.conditions[0]!.reason, 'Invalid');
});

const ISTIO = `---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: igw, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: default}
spec:
  hosts: [mesh.test]
  gateways: [igw]
  http:
    - name: reviews
      match: [{uri: {prefix: /reviews}}]
      route: [{destination: {host: web.default.svc.cluster.local, port: {number: 80}}}]
    - name: rest
      route: [{destination: {host: web.default.svc.cluster.local, port: {number: 80}}}]
`;

test('a VirtualService target covers its http routes; sectionName picks one by name; the ancestor is the Istio Gateway', () => {
  const { ir, statuses, diagnostics } = run(BASE + ISTIO + authPolicy('vs-all', '[{group: networking.istio.io, kind: VirtualService, name: vs}]') + authPolicy('vs-reviews', '[{group: networking.istio.io, kind: VirtualService, name: vs, sectionName: reviews}]'));
  assert.deepEqual(diagnostics, []);
  const vsRoutes = [...routes(ir).entries()].filter(([k]) => k.includes('virtualservice/default/vs/'));
  assert.equal(vsRoutes.length, 2);
  const policyOf = (i: number): string | undefined => authnOf(vsRoutes.find(([k]) => k.includes(`/http/${i}`))![1])?.policy;
  assert.equal(policyOf(0), 'authpolicy/default/vs-reviews');
  assert.equal(policyOf(1), 'authpolicy/default/vs-all');
  const [a] = statusOf(statuses, 'AuthPolicy', 'vs-all').status.ancestors;
  assert.deepEqual([a!.ancestorRef.group, a!.ancestorRef.kind, a!.ancestorRef.name], ['networking.istio.io', 'Gateway', 'igw']);
});

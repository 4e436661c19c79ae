// The smallest Gateway API set-up the API-management e2e tests put their policies on: GatewayClass
// `isthmus`, Gateway `gw` (one HTTP listener on port 80) in `default`, and Service `api` whose one
// endpoint is the test's upstream on 127.0.0.1. Each test adds its own HTTPRoute and policies after it.
export function gatewayAndService(upstreamPort: number): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: isthmus}
spec: {controllerName: isthmus.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: isthmus
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: default}
spec: {ports: [{name: http, port: 80, protocol: TCP}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: api-1, namespace: default, labels: {kubernetes.io/service-name: api}}
addressType: IPv4
ports: [{name: http, port: ${upstreamPort}, protocol: TCP}]
endpoints: [{addresses: ["127.0.0.1"]}]
`;
}

/**
 * GatewayClass `isthmus`, Gateway `eg` in `default` with the given listeners (YAML flow items), and
 * HTTPRoute `web` on its `http` listener for `hostname`, to Service `web` port 80: the set-up of the
 * tests that change a Gateway's listeners under a running gateway.
 */
export function gatewayWithListeners(listeners: string, hostname: string): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: isthmus}
spec: {controllerName: isthmus.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: eg, namespace: default}
spec:
  gatewayClassName: isthmus
  listeners: [${listeners}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: default}
spec:
  parentRefs: [{name: eg, sectionName: http}]
  hostnames: [${hostname}]
  rules: [{backendRefs: [{name: web, port: 80}]}]
`;
}

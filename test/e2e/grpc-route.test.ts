// GRPCRoute through the real command, with a real gRPC client and server (@grpc/grpc-js): the
// client speaks h2c with prior knowledge to the gateway's HTTP listener; the Service's port name
// `grpc` makes the backend h2c; a RequestHeaderModifier adds metadata the server sees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { adminJson, configDir, repoRoot, startGateway } from './cli-harness.js';

const HOST = 'greeter.test';
const BACKEND_ADDRESS = '127.0.0.4';

interface HelloReply {
  readonly message: string;
  readonly via: string;
}
type HelloCall = grpc.ServerUnaryCall<{ name: string }, HelloReply>;
type GreeterClient = grpc.Client & {
  Hello(request: { name: string }, callback: (err: grpc.ServiceError | null, reply?: HelloReply) => void): grpc.ClientUnaryCall;
};

function loadGreeter(): grpc.ServiceClientConstructor {
  // The proto stays in the source tree (tsc does not copy it to dist/).
  const definition = protoLoader.loadSync(path.join(repoRoot(), 'test', 'e2e', 'grpc', 'greeter.proto'));
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { greeter: { v1: { Greeter: grpc.ServiceClientConstructor } } };
  return pkg.greeter.v1.Greeter;
}

async function startGreeter(t: { after(fn: () => unknown): void }, Greeter: grpc.ServiceClientConstructor): Promise<number> {
  const server = new grpc.Server();
  server.addService(Greeter.service, {
    Hello: (call: HelloCall, callback: grpc.sendUnaryData<HelloReply>) => {
      const via = call.metadata.get('x-via').map(String).join(',');
      callback(null, { message: `hello ${call.request.name}`, via });
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${BACKEND_ADDRESS}:0`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  t.after(() => new Promise<void>((resolve) => server.tryShutdown(() => resolve())));
  return port;
}

function config(backendPort: number): Record<string, string> {
  return {
    'gateway.yaml': `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: isthmus}
spec: {controllerName: isthmus.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: eg, namespace: default}
spec:
  gatewayClassName: isthmus
  listeners: [{name: http, port: 80, protocol: HTTP, hostname: "*.test"}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: greeter, namespace: default}
spec:
  parentRefs: [{name: eg}]
  hostnames: [${HOST}]
  rules:
  - matches: [{method: {service: greeter.v1.Greeter, method: Hello}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {add: [{name: X-Via, value: isthmus}]}
    backendRefs: [{name: greeter, port: 80}]
`,
    'services.yaml': `apiVersion: v1
kind: Service
metadata: {name: greeter, namespace: default}
spec:
  selector: {app: greeter}
  ports: [{name: grpc, port: 80, targetPort: grpc}]
---
apiVersion: v1
kind: Pod
metadata: {name: greeter-0, namespace: default, labels: {app: greeter}}
spec:
  containers: [{name: greeter, image: greeter, ports: [{name: grpc, containerPort: ${backendPort}}]}]
status:
  podIP: ${BACKEND_ADDRESS}
  conditions: [{type: Ready, status: "True"}]
`,
  };
}

/** A client whose :authority is `authority` (the gateway routes on it). */
function connect(Greeter: grpc.ServiceClientConstructor, port: number, authority: string): GreeterClient {
  // loadPackageDefinition builds the methods at run time; the proto above is their type.
  return new Greeter(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': authority }) as unknown as GreeterClient;
}

function hello(client: GreeterClient, name: string): Promise<HelloReply> {
  return new Promise((resolve, reject) => {
    client.Hello({ name }, (err, reply) => (err ? reject(err) : reply ? resolve(reply) : reject(new Error('no reply'))));
  });
}

test('a GRPCRoute carries a unary call over h2c to a gRPC server and adds request metadata', async (t) => {
  const Greeter = loadGreeter();
  const backendPort = await startGreeter(t, Greeter);
  const gateway = await startGateway(t, { config: [configDir(t, config(backendPort))] });

  const client = connect(Greeter, gateway.httpPort, HOST);
  t.after(() => client.close());

  const reply = await hello(client, 'isthmus');
  assert.deepEqual({ message: reply.message, via: reply.via }, { message: 'hello isthmus', via: 'isthmus' });

  // Another hostname has no route: the gateway's 404 surfaces as a gRPC error, not a reply.
  const other = connect(Greeter, gateway.httpPort, 'other.test');
  t.after(() => other.close());
  await assert.rejects(hello(other, 'nobody'), (err: grpc.ServiceError) => err.code === grpc.status.UNIMPLEMENTED);

  const statuses = (await adminJson(gateway.adminPort, '/api/status')) as { kind: string; name: string; status: { parents?: { conditions: { type: string; status: string }[] }[] } }[];
  const route = statuses.find((s) => s.kind === 'GRPCRoute' && s.name === 'greeter');
  assert.equal(route?.status.parents?.[0]?.conditions.find((c) => c.type === 'Accepted')?.status, 'True');
});

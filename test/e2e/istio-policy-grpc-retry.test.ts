// Istio `retries.retryOn` gRPC conditions through the real command, with a real gRPC client and
// server (@grpc/grpc-js): the server answers each name's first call with UNAVAILABLE (a
// trailers-only response: grpc-status in the headers), then succeeds. A route retrying on
// `unavailable` hides the failure; one retrying only on `internal` lets it through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { adminJson, configDir, repoRoot, startGateway } from './cli-harness.js';

const BACKEND_ADDRESS = '127.0.0.13';

interface HelloReply {
  readonly message: string;
}
type GreeterClient = grpc.Client & {
  Hello(request: { name: string }, callback: (err: grpc.ServiceError | null, reply?: HelloReply) => void): grpc.ClientUnaryCall;
  Chat(): grpc.ClientDuplexStream<{ name: string }, HelloReply>;
};

function loadGreeter(): grpc.ServiceClientConstructor {
  // The proto stays in the source tree (tsc does not copy it to dist/).
  const definition = protoLoader.loadSync(path.join(repoRoot(), 'test', 'e2e', 'grpc', 'greeter.proto'));
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { greeter: { v1: { Greeter: grpc.ServiceClientConstructor } } };
  return pkg.greeter.v1.Greeter;
}

function config(backendPort: number): Record<string, string> {
  const vs = (name: string, retryOn: string): string => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${name}, namespace: default}
spec:
  hosts: [${name}.test]
  gateways: [edge]
  http:
  - route: [{destination: {host: greeter}}]
    retries: {attempts: 2, retryOn: "${retryOn}"}
`;
  return {
    'istio.yaml': `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: edge, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: grpc, protocol: GRPC}
    hosts: ["*"]
---
${vs('retry', 'unavailable,cancelled')}---
${vs('noretry', 'internal')}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: default-policy, namespace: default}
spec:
  hosts: [default-policy.test]
  gateways: [edge]
  http:
  - route: [{destination: {host: greeter}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: abort, namespace: default}
spec:
  hosts: [abort.test]
  gateways: [edge]
  http:
  - fault: {abort: {grpcStatus: RESOURCE_EXHAUSTED, percentage: {value: 100}}}
    route: [{destination: {host: greeter}}]
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

function hello(client: GreeterClient, name: string): Promise<HelloReply> {
  return new Promise((resolve, reject) => {
    client.Hello({ name }, (err, reply) => (err ? reject(err) : reply ? resolve(reply) : reject(new Error('no reply'))));
  });
}

test('retryOn unavailable retries a gRPC call that failed with UNAVAILABLE; retryOn internal does not; a gRPC fault abort reaches the client with its status', async (t) => {
  const Greeter = loadGreeter();
  const calls = new Map<string, number>();
  const server = new grpc.Server();
  server.addService(Greeter.service, {
    Hello: (call: grpc.ServerUnaryCall<{ name: string }, HelloReply>, callback: grpc.sendUnaryData<HelloReply>) => {
      const n = (calls.get(call.request.name) ?? 0) + 1;
      calls.set(call.request.name, n);
      if (n === 1) callback({ code: grpc.status.UNAVAILABLE, details: 'warming up' });
      else callback(null, { message: `hello ${call.request.name} on call ${n}` });
    },
    Chat: (call: grpc.ServerDuplexStream<{ name: string }, HelloReply>) => {
      call.on('data', (m: { name: string }) => call.write({ message: `hi ${m.name}` }));
      call.on('end', () => call.end());
    },
  });
  const backendPort = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${BACKEND_ADDRESS}:0`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  t.after(() => new Promise<void>((resolve) => server.tryShutdown(() => resolve())));
  const gateway = await startGateway(t, { config: [configDir(t, config(backendPort))] });
  const connect = (authority: string): GreeterClient => {
    const client = new Greeter(`127.0.0.1:${gateway.httpPort}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': authority }) as unknown as GreeterClient;
    t.after(() => client.close());
    return client;
  };

  await assert.rejects(hello(connect('noretry.test'), 'bob'), (err: grpc.ServiceError) => err.code === grpc.status.UNAVAILABLE && /warming up/.test(err.details));
  assert.equal(calls.get('bob'), 1);

  const reply = await hello(connect('retry.test'), 'ada');
  assert.equal(reply.message, 'hello ada on call 2');
  assert.equal(calls.get('ada'), 2);

  // No `retries` at all: Istio's default policy retries `unavailable` too.
  const byDefault = await hello(connect('default-policy.test'), 'carl');
  assert.equal(byDefault.message, 'hello carl on call 2');

  // A bidirectional stream on the retrying route is sent as it arrives (the copy kept for a retry
  // never holds it back): each message is answered before the client sends the next.
  const chat = connect('retry.test').Chat();
  const replies: string[] = [];
  const next = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply within 5 s (got ${JSON.stringify(replies)}): the gateway held the stream`)), 5000);
      chat.once('data', (r: HelloReply) => {
        clearTimeout(timer);
        replies.push(r.message);
        resolve(r.message);
      });
    });
  for (const name of ['one', 'two', 'three']) {
    const reply = next();
    chat.write({ name });
    assert.equal(await reply, `hi ${name}`);
  }
  chat.end();
  await new Promise<void>((resolve, reject) => {
    chat.on('status', (s: grpc.StatusObject) => (s.code === grpc.status.OK ? resolve() : reject(new Error(s.details))));
    chat.on('error', reject);
  });

  // The gateway's own gRPC answer (a fault abort) reaches a gRPC client with its status.
  const before = calls.size;
  await assert.rejects(hello(connect('abort.test'), 'eve'), (err: grpc.ServiceError) => err.code === grpc.status.RESOURCE_EXHAUSTED);
  assert.equal(calls.size, before, 'the aborted call never reached the server');

  const diagnostics = (await adminJson(gateway.adminPort, '/api/diagnostics')) as { message: string }[];
  assert.ok(!diagnostics.some((d) => /gRPC condition/.test(d.message)), JSON.stringify(diagnostics));
});

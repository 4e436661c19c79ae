// `--upstream-client`: the transport the data plane sends upstream requests through. One choice for
// the single process (gateway.ts) and each worker (workers/worker.ts): raw (src/dataplane/upstream/
// raw-pool/) for http1 and https upstreams, undici for h2 and h2c either way (docs/upstream-pool.md).
import { RawTransport } from '../dataplane/upstream/raw-pool/raw-transport.js';
import type { UpstreamTransport } from '../dataplane/upstream/transport.js';
import { UndiciTransport } from '../dataplane/upstream/undici-transport.js';
import type { UpstreamClient } from './args.js';

export function createUpstreamTransport(client: UpstreamClient | undefined): UpstreamTransport {
  return client === 'undici' ? new UndiciTransport() : new RawTransport();
}

// Request mirroring (Gateway API RequestMirror, Istio mirror): a copy of the request goes to another
// cluster and its answer is dropped. Fire and forget: a slow or failing mirror never delays or
// changes the real response. Only bodies that can be sent twice are mirrored: none, or one kept in
// memory (replayable-body.ts); a streamed body is read once, by the real upstream.
import type { EndpointState } from '../upstream/endpoint-state.js';
import type { UpstreamHandler, UpstreamRequest, UpstreamTransport } from '../upstream/transport.js';
import type { LbContext } from '../upstream/lb/types.js';
import type { CompiledMirror } from './compiled-route.js';

class DiscardHandler implements UpstreamHandler {
  constructor(private readonly endpoint: EndpointState) {}
  onConnect(): void {}
  onHeaders(): boolean {
    return true;
  }
  onData(): boolean {
    return true;
  }
  onComplete(): void {
    this.release();
  }
  onError(): void {
    this.release();
  }
  private release(): void {
    if (this.endpoint.inFlight > 0) this.endpoint.inFlight--;
  }
}

export function sendMirrors(mirrors: readonly CompiledMirror[], request: UpstreamRequest, transport: UpstreamTransport, lbContext: LbContext): void {
  if (request.body !== null && !Buffer.isBuffer(request.body)) return;
  for (const mirror of mirrors) {
    if (!mirror.sample()) continue;
    const endpoint = mirror.cluster.lb.pick(lbContext);
    if (endpoint === undefined) continue;
    endpoint.inFlight++;
    const copy: UpstreamRequest = { ...request, headers: mirror.shadowHost ? withShadowHost(request.headers) : [...request.headers] };
    transport.send(endpoint, mirror.cluster.connection, copy, new DiscardHandler(endpoint));
  }
}

/** The headers with `-shadow` appended to Host's name part (`a.b:8080` → `a.b-shadow:8080`; `[::1]:80` → `[::1]-shadow:80`). */
export function withShadowHost(headers: readonly string[]): string[] {
  const out = [...headers];
  for (let i = 0; i < out.length; i += 2) {
    if (out[i]!.toLowerCase() !== 'host') continue;
    const host = out[i + 1]!;
    const colon = host.lastIndexOf(':');
    const hasPort = colon > host.lastIndexOf(']') && /^\d+$/.test(host.slice(colon + 1));
    out[i + 1] = hasPort ? `${host.slice(0, colon)}-shadow${host.slice(colon)}` : `${host}-shadow`;
  }
  return out;
}

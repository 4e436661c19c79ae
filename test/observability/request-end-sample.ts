// One proxied request's end message, as the data plane publishes it: the sample the access log
// tests format and compare.
import type { RequestEndMessage } from '../../src/core/channels.js';

export const PROXIED_REQUEST_END: RequestEndMessage = {
  requestId: '5f0c6e2a-1',
  startTime: Date.UTC(2024, 0, 2, 3, 4, 5, 678),
  durationMs: 12.3456789,
  upstreamHeadersMs: 10.0001234,
  method: 'POST',
  host: 'shop.example.com',
  path: '/cart?id=7',
  protocol: 'HTTP/1.1',
  listener: 'ingress/http',
  route: 'ingress/default/shop/rule/0/path/0',
  cluster: 'service/default/shop/80',
  upstream: '127.0.0.2:3000',
  attempts: 2,
  status: 201,
  bytesSent: 1234,
  clientAddress: '127.0.0.1',
  userAgent: 'curl/8.5.0',
};

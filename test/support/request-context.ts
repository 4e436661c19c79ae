// A RequestContext as the data plane builds one, for filter tests that call a compiled filter
// directly; `consumer` and `claims` stand in for what the authentication filter would set.
import type { IrConsumer } from '../../src/ir/apim.js';
import { RequestContextRecord, type RequestContext } from '../../src/dataplane/filters/request-context.js';

let nextId = 0;

export function requestContext(options: {
  clientIp?: string;
  method?: string;
  path?: string;
  /** The authority; the host is it without a port. */
  authority?: string;
  headers?: Record<string, string | string[]>;
  consumer?: IrConsumer;
  claims?: Record<string, unknown>;
} = {}): RequestContext {
  const ctx = new RequestContextRecord(
    `req-${++nextId}`,
    performance.now(),
    Date.now(),
    options.method ?? 'GET',
    'http',
    options.authority ?? 'api.example.com',
    (options.authority ?? 'api.example.com').replace(/:\d+$/, '').toLowerCase(),
    options.path ?? '/orders',
    '',
    options.headers ?? {},
    options.clientIp ?? '192.0.2.1',
    'HTTP/1.1',
    'test',
    'httproute/default/orders/rule/0',
    false,
  );
  if (options.consumer !== undefined) ctx.attributes.set('consumer', options.consumer);
  if (options.claims !== undefined) ctx.attributes.set('claims', options.claims);
  return ctx;
}

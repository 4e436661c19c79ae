import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backendProtocolOf } from '../../src/translate/services/backend-protocol.js';

test('upstream protocol from appProtocol, then Istio port-name convention', () => {
  assert.equal(backendProtocolOf('kubernetes.io/h2c'), 'h2c');
  assert.equal(backendProtocolOf('grpc'), 'h2c');
  assert.equal(backendProtocolOf('http2'), 'h2c');
  assert.equal(backendProtocolOf('https'), 'https');
  assert.equal(backendProtocolOf('kubernetes.io/ws'), 'http1');
  assert.equal(backendProtocolOf('http', 'grpc'), 'http1', 'an explicit appProtocol wins over the name');
  assert.equal(backendProtocolOf(undefined, 'grpc-api'), 'h2c');
  assert.equal(backendProtocolOf(undefined, 'http2'), 'h2c');
  assert.equal(backendProtocolOf(undefined, 'grpc-web'), 'http1');
  assert.equal(backendProtocolOf(undefined, 'http'), 'http1');
  assert.equal(backendProtocolOf(undefined, undefined), 'http1');
});

// Typed subscriptions to the data plane's telemetry channels (src/core/channels.ts). The channel
// carries `unknown`; the message shapes are the data plane's published contract, so the one
// narrowing cast lives here instead of in every subscriber.
import diagnosticsChannel from 'node:diagnostics_channel';
import type { Channel } from 'node:diagnostics_channel';
import {
  channels,
  type ConfigApplyMessage,
  type L4ConnectionEndMessage,
  type RequestEndMessage,
  type UpstreamErrorMessage,
} from '../core/channels.js';

export type Unsubscribe = () => void;

function subscribeTo<T>(channel: Channel, onMessage: (message: T) => void): Unsubscribe {
  const listener = (message: unknown): void => onMessage(message as T);
  // The module-level subscribe (not channel.subscribe, deprecated on Node 20) also holds a strong
  // reference to the channel, so it cannot be garbage-collected while we listen.
  diagnosticsChannel.subscribe(channel.name, listener);
  let subscribed = true;
  return () => {
    if (!subscribed) return;
    subscribed = false;
    diagnosticsChannel.unsubscribe(channel.name, listener);
  };
}

export function subscribeRequestEnd(onMessage: (message: RequestEndMessage) => void): Unsubscribe {
  return subscribeTo(channels.requestEnd, onMessage);
}

export function subscribeUpstreamError(onMessage: (message: UpstreamErrorMessage) => void): Unsubscribe {
  return subscribeTo(channels.upstreamError, onMessage);
}

export function subscribeConfigApply(onMessage: (message: ConfigApplyMessage) => void): Unsubscribe {
  return subscribeTo(channels.configApply, onMessage);
}

export function subscribeL4ConnectionEnd(onMessage: (message: L4ConnectionEndMessage) => void): Unsubscribe {
  return subscribeTo(channels.l4ConnectionEnd, onMessage);
}

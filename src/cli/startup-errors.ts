// Start-up failures said plainly: which port, which flag moves it, and that nothing is serving.
// A bind or admin-port failure at start-up is the first thing a new user meets when another
// gateway (or a second copy of this one) already holds 8080 or 9901; the OS's
// `listen EADDRINUSE: address already in use 0.0.0.0:8080` does not say what to do about it.
import type { FailedBind } from '../dataplane/data-plane.js';
import type { IrSnapshot } from '../ir/types.js';
import type { RunOptions } from './args.js';

/** The flags that set what a command binds, for the messages below. */
export interface BindFlags {
  /** The flag that sets the real port of a logical one (`--http-port` for Ingress port 80). */
  port(logicalPort: number, realPort: number): string;
  /** The flag that sets the address traffic listeners bind. */
  readonly address: string;
  readonly admin: string;
}

/** `isthmus run`: logical 80 and 443 follow --http-port / --https-port unless --port-map moved them. */
export function runBindFlags(options: Pick<RunOptions, 'httpPort' | 'httpsPort' | 'portMap'>): BindFlags {
  return {
    port(logical, real) {
      if (logical === 80 && real === options.httpPort) return '--http-port';
      if (logical === 443 && real === options.httpsPort) return '--https-port';
      return `--port-map ${logical}=PORT`;
    },
    address: '--listen-address',
    admin: '--admin-port',
  };
}

/** The first configuration could not bind a port: one paragraph naming the port, its flag and the way out. */
export function describeFirstBindFailure(failed: FailedBind, ir: IrSnapshot, flags: BindFlags): string {
  const names = new Set(ir.binds.find((b) => b.name === failed.name)?.listeners.map((l) => l.listener) ?? []);
  const logical = [...new Set(ir.listeners.filter((l) => names.has(l.name)).map((l) => l.port))];
  const portFlags = [...new Set(logical.map((p) => flags.port(p, failed.port)))];
  const flag = portFlags.length > 0 ? portFlags.join(' or ') : flags.port(failed.port, failed.port);
  const what = `port ${failed.port} on ${failed.address} (${failed.protocol === 'https' ? 'HTTPS' : 'plain HTTP'}${logical.length > 0 ? `; port ${logical.join(', ')} in the resources` : ''})`;
  return `${describeListenError(what, failed.errorCode, failed.reason, flag, flags.address)} No configuration is serving.`;
}

/** The admin API could not listen (it binds first, so nothing else is up yet). */
export function describeAdminListenFailure(port: number, err: unknown, flags: BindFlags): string {
  const { code, message } = err as NodeJS.ErrnoException;
  return `${describeListenError(`the admin port ${port} on 127.0.0.1`, code, message, flags.admin, undefined)} Nothing is serving.`;
}

/** The health port (`--health-port`) could not listen; the admin API is up but nothing serves traffic yet. */
export function describeHealthListenFailure(port: number, address: string, err: unknown): string {
  const { code, message } = err as NodeJS.ErrnoException;
  return `${describeListenError(`the health port ${port} on ${address}`, code, message, '--health-port', '--listen-address')} Nothing is serving.`;
}

function describeListenError(what: string, code: string | undefined, reason: string, portFlag: string, addressFlag: string | undefined): string {
  switch (code) {
    case 'EADDRINUSE':
      return `${what} is already in use by another process: choose another with ${portFlag}, or stop the process that holds it.`;
    case 'EACCES':
      return `${what} needs a privilege this process lacks (EACCES; ports below 1024 usually do): choose a port of 1024 or more with ${portFlag}, or grant CAP_NET_BIND_SERVICE.`;
    case 'EADDRNOTAVAIL':
      return `${what} cannot be bound: the address is not one of this machine's (EADDRNOTAVAIL); change ${addressFlag ?? 'the address'}.`;
    default:
      return `${what} cannot be bound (${reason}); ${portFlag} changes the port.`;
  }
}

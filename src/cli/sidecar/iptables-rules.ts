// Transparent mode: the nat rules that send a workload's outbound TCP to the sidecar. They go in
// the workload's network namespace (as istio-init writes them), in OUTPUT only, so connections
// that arrive from outside (the workload's inbound port) are never touched: PREROUTING has no rule,
// and NAT sees only a connection's first packet, so replies to inbound calls pass as they are.
// Excluded from the redirect, in this order:
// - the sidecar's own connections, recognised by its uid (`-m owner --uid-owner`): without this
//   the sidecar's call to a backend would come back to itself, a loop;
// - loopback destinations: the workload talking to itself (and the sidecar's admin port).
// The chain has its own name, so `down` removes exactly what `up` added.

export const SIDECAR_CHAIN = 'ISTHMUS_OUTPUT';

/** Arguments of each `iptables` call (without the command itself), in the order to run them. */
export function transparentRedirectRules(proxyUid: number, port: number): string[][] {
  return [
    ['-t', 'nat', '-N', SIDECAR_CHAIN],
    ['-t', 'nat', '-A', SIDECAR_CHAIN, '-m', 'owner', '--uid-owner', String(proxyUid), '-j', 'RETURN'],
    ['-t', 'nat', '-A', SIDECAR_CHAIN, '-d', '127.0.0.0/8', '-j', 'RETURN'],
    ['-t', 'nat', '-A', SIDECAR_CHAIN, '-p', 'tcp', '-j', 'REDIRECT', '--to-ports', String(port)],
    ['-t', 'nat', '-A', 'OUTPUT', '-p', 'tcp', '-j', SIDECAR_CHAIN],
  ];
}

/** The same as shell lines, for `isthmus sidecar --print-iptables`. */
export function formatRules(rules: readonly (readonly string[])[]): string {
  return rules.map((args) => ['iptables', ...args].join(' ')).join('\n') + '\n';
}

// Which clients' X-Forwarded-* and X-Request-Id headers are believed: addresses and CIDR blocks
// from --trusted-proxy. Everyone else's are replaced (spoofed X-Forwarded-For is a classic hole).
import net from 'node:net';

export function isTrustedBy(entries: readonly string[]): (ip: string) => boolean {
  if (entries.length === 0) return () => false;
  const list = new net.BlockList();
  for (const entry of entries) {
    const [addr, bits] = entry.split('/');
    const type = net.isIPv6(addr!) ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(addr!, type);
    else list.addSubnet(addr!, Number(bits), type);
  }
  return (ip) => ip !== '' && list.check(ip, net.isIPv6(ip) ? 'ipv6' : 'ipv4');
}

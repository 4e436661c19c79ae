// The iptables-restore text of one table: chains declared once, rules appended per chain, then
// written chain by chain. kube-proxy writes its chain lines and rules into separate buffers in
// emission order; we write them grouped per chain in the order kube-proxy's own tests normalise
// to (pkg/proxy/iptables/proxier_test.go, TestOverallIPTablesRules: KUBE-NODEPORTS, KUBE-SERVICES,
// then the other chains by name). That is also how iptables-save prints a table (rules grouped by
// chain), so the output compares line by line with a node's; the order of rules within a chain,
// which is what the kernel evaluates, is kube-proxy's.

const FIRST_CHAINS = ['KUBE-NODEPORTS', 'KUBE-SERVICES'];

export class RestoreTable {
  private readonly chains = new Map<string, string[]>();

  constructor(private readonly name: 'filter' | 'nat') {}

  /** Declares a chain (`:NAME - [0:0]`: created if missing, flushed if present). */
  declare(chain: string): void {
    if (!this.chains.has(chain)) this.chains.set(chain, []);
  }

  /** Appends `-A chain args...` (declaring the chain); args are joined with spaces as kube-proxy does. */
  append(chain: string, ...args: readonly (string | readonly string[])[]): void {
    this.declare(chain);
    this.chains.get(chain)!.push(['-A', chain, ...args.flat()].join(' '));
  }

  render(): string {
    const names = [...this.chains.keys()].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
    const lines = [`*${this.name}`, ...names.map((c) => `:${c} - [0:0]`)];
    for (const c of names) lines.push(...this.chains.get(c)!);
    lines.push('COMMIT');
    return lines.join('\n') + '\n';
  }
}

function rank(chain: string): number {
  const i = FIRST_CHAINS.indexOf(chain);
  return i === -1 ? FIRST_CHAINS.length : i;
}

/** `"text"` for iptables-restore: kube-proxy quotes every comment that has spaces. */
export function quoted(text: string): string {
  return `"${text}"`;
}

/**
 * 1/n with ten decimals, as Go's fmt.Sprintf("%0.10f") writes it (kube-proxy's computeProbability).
 * Go rounds an exact tie to even; JavaScript's toFixed rounds it up. A tie needs the double 1/n
 * to be an exact decimal with 11 digits, which only 1/2048 is, so powers of two are done exactly.
 */
export function formatProbability(n: number): string {
  if (n > 0 && Number.isInteger(n) && (n & (n - 1)) === 0) {
    const scale = 10n ** 10n;
    const big = BigInt(n);
    let q = scale / big;
    const twiceRemainder = (scale % big) * 2n;
    if (twiceRemainder > big || (twiceRemainder === big && q % 2n === 1n)) q += 1n;
    const digits = q.toString().padStart(11, '0');
    return `${digits.slice(0, -10)}.${digits.slice(-10)}`;
  }
  return (1 / n).toFixed(10);
}

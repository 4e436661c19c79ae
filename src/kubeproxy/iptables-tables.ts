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

  /** Declares a chain (`:NAME - [0:0]`: created if missing, flushed if present); returns its rules. */
  declare(chain: string): string[] {
    let rules = this.chains.get(chain);
    if (rules === undefined) this.chains.set(chain, (rules = []));
    return rules;
  }

  /**
   * Appends `-A chain args...` (declaring the chain); args are joined with spaces as kube-proxy
   * does, an empty list adding nothing. One array and one join per rule (10,000 Services are
   * 400,000 rules): no flat() and spread copies, and join gives a flat string where `+=` would
   * leave a rope for the final join to walk.
   */
  append(chain: string, ...args: readonly (string | readonly string[])[]): void {
    const words = ['-A', chain];
    for (const arg of args) {
      if (typeof arg === 'string') words.push(arg);
      else for (const word of arg) words.push(word);
    }
    this.declare(chain).push(words.join(' '));
  }

  render(): string {
    // KUBE-NODEPORTS, KUBE-SERVICES, then the rest by name: the default sort compares UTF-16 code
    // units, as `<` does, without a JavaScript comparator call per comparison.
    const first = FIRST_CHAINS.filter((c) => this.chains.has(c));
    const names = [...first, ...[...this.chains.keys()].filter((c) => !FIRST_CHAINS.includes(c)).sort()];
    const lines = [`*${this.name}`];
    for (const c of names) lines.push(`:${c} - [0:0]`);
    for (const c of names) for (const rule of this.chains.get(c)!) lines.push(rule);
    lines.push('COMMIT');
    return lines.join('\n') + '\n';
  }
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

// The iptables-restore input from two shards of the Service ports rendered on two threads
// (render-in-shards.ts). A table's text depends only on which chains exist and each chain's rules
// in order (RestoreTable sorts the chains when it writes them), and each Service port only
// appends rules. So appending the later shard's rules, chain by chain, after the first shard's
// (and before the rules that close the table) gives exactly the rules of one render of all ports.
import { finishFamilyTables, startFamilyTables, writePortRules, type FamilyTables, type IptablesRenderOptions } from './iptables-render.js';
import { RestoreTable } from './iptables-tables.js';
import type { IpFamily, KpServicePort } from './service-ports.js';

/** One family of the later shard: per table, each chain with its rules joined by "\n" ('' for none). */
export interface IptablesFamilyShard {
  readonly family: IpFamily;
  readonly filter: readonly (readonly [string, string])[];
  readonly nat: readonly (readonly [string, string])[];
}

/** The later shard's rules, made in the worker; one string per chain, which crosses threads cheaply. */
export function iptablesShard(ports: readonly KpServicePort[], families: readonly IpFamily[], options: IptablesRenderOptions): IptablesFamilyShard[] {
  return families.map((family) => {
    const tables: FamilyTables = { filter: new RestoreTable('filter'), nat: new RestoreTable('nat') };
    writePortRules(ports, family, options, tables);
    const blocks = (table: RestoreTable): [string, string][] => [...table.entries()].map(([chain, rules]) => [chain, rules.join('\n')]);
    return { family, filter: blocks(tables.filter), nat: blocks(tables.nat) };
  });
}

/** The first shard's tables, opened and filled on the main thread while the worker makes the rest. */
export function iptablesFirstShard(ports: readonly KpServicePort[], families: readonly IpFamily[], options: IptablesRenderOptions): Map<IpFamily, FamilyTables> {
  return new Map(
    families.map((family) => {
      const tables = startFamilyTables(family, options);
      writePortRules(ports, family, options, tables);
      return [family, tables];
    }),
  );
}

/** Adds the later shard's rules to the first's tables and closes them; the tables then hold what one render would. */
export function joinIptablesShards(first: ReadonlyMap<IpFamily, FamilyTables>, later: readonly IptablesFamilyShard[]): void {
  for (const [family, tables] of first) {
    const shard = later.find((s) => s.family === family);
    for (const [table, blocks] of [[tables.filter, shard?.filter ?? []], [tables.nat, shard?.nat ?? []]] as const) {
      for (const [chain, block] of blocks) {
        const rules = table.declare(chain);
        // A block is several rules in one string: written as one "line", its inner newlines make them lines.
        if (block !== '') rules.push(block);
      }
    }
    finishFamilyTables(family, tables);
  }
}

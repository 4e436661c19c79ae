// `isthmus run --workers N` (N > 1), the primary process: the usual Gateway (source, translate,
// statuses, admin API, usage state file) with a WorkerPool in place of its own data plane. It loads,
// translates and compiles the configuration once per change and hands each worker the IR.
import type { RunOptions } from '../args.js';
import { Gateway } from '../gateway.js';
import { WorkerPool } from './worker-pool.js';

export async function createPrimaryGateway(options: RunOptions, count: number): Promise<Gateway> {
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  let gateway: Gateway | undefined;
  const pool = new WorkerPool({
    count,
    log,
    // Workers only meter traffic, which starts after the gateway exists.
    onUsage: (entries) => gateway?.mergeUsage(entries),
    onFatal: (why) => {
      log(`isthmus: ${why}; exiting`);
      process.exit(1);
    },
  });
  await pool.start();
  gateway = new Gateway(options, { workers: pool });
  return gateway;
}

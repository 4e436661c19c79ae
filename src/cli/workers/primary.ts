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
    onUsage: (entries) => gateway?.mergeUsage(entries),
    onFatal: (why) => {
      log(`isthmus: ${why}; exiting`);
      process.exit(1);
    },
  });
  // The Gateway first: what it refuses (an access log path that cannot be opened, ...) is the usual
  // one-line start-up error, said once by the primary rather than by every worker.
  gateway = new Gateway(options, { workers: pool });
  await pool.start();
  return gateway;
}

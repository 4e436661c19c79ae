// A gateway in a worker thread, for tests whose failure mode is a data plane that stops answering
// (a regex that backtracks for hours). In-process, such a bug blocks the test's own event loop, so
// node:test's per-test timeout could never fire and the run would hang instead of failing; here
// the timeout fires in the main thread and terminate() stops even a worker stuck inside a RegExp.
import { Worker } from 'node:worker_threads';
import type { DataPlaneLimits } from '../../src/dataplane/data-plane.js';
import type { IrSnapshot } from '../../src/ir/types.js';

export interface WorkerGateway {
  readonly httpPort: number;
  close(): Promise<void>;
}

export async function startGatewayInWorker(ir: IrSnapshot, limits: Partial<DataPlaneLimits> = {}): Promise<WorkerGateway> {
  const worker = new Worker(new URL('./gateway-worker.js', import.meta.url), { workerData: { ir, limits } });
  const httpPort = await new Promise<number>((resolve, reject) => {
    worker.once('message', (m: { httpPort: number }) => resolve(m.httpPort));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`gateway worker exited with code ${code} before listening`)));
  });
  return {
    httpPort,
    close: async () => {
      await worker.terminate();
    },
  };
}

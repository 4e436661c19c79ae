// Worker entry for startGatewayInWorker (gateway-in-worker.ts): runs the real DataPlane from the
// IR it is handed and reports the bound HTTP port. `node --test dist/test/` also runs every file
// under test/ as a test of its own: outside a worker there is nothing to do.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { DataPlaneLimits } from '../../src/dataplane/data-plane.js';
import type { IrSnapshot } from '../../src/ir/types.js';
import { startGateway } from './harness.js';

if (!isMainThread && parentPort !== null) {
  const { ir, limits } = workerData as { ir: IrSnapshot; limits: Partial<DataPlaneLimits> };
  const gw = await startGateway(ir, { limits });
  parentPort.postMessage({ httpPort: gw.httpPort });
}

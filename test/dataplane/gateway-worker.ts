// Worker entry for startGatewayInWorker (gateway-in-worker.ts): runs the real DataPlane from the
// IR it is handed and reports the bound HTTP port.
import { parentPort, workerData } from 'node:worker_threads';
import type { DataPlaneLimits } from '../../src/dataplane/data-plane.js';
import type { IrSnapshot } from '../../src/ir/types.js';
import { startGateway } from './harness.js';

const { ir, limits } = workerData as { ir: IrSnapshot; limits: Partial<DataPlaneLimits> };
const gw = await startGateway(ir, { limits });
parentPort!.postMessage({ httpPort: gw.httpPort });

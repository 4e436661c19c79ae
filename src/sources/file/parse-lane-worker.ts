// A second parse lane for loadDirs (parallel-read.ts): a worker thread that claims files from the
// same counter as the main thread and reads and parses them while the main thread does its own.
// It imports the parser (the schemas of every kind) while the main thread scans the folders.
import { parentPort } from 'node:worker_threads';
import type { LaneResult, LaneStart } from './parse-lane-protocol.js';
import { readConfigFile } from './read-config-file.js';

const port = parentPort;
if (port === null) throw new Error('parse-lane-worker.js runs as a worker thread (see parallel-read.ts)');

port.once('message', (start: LaneStart) => {
  void run(start);
});

async function run({ files, limits, next }: LaneStart): Promise<void> {
  const counter = new Int32Array(next);
  for (;;) {
    const index = Atomics.add(counter, 0, 1);
    if (index >= files.length) break;
    const contribution = await readConfigFile(files[index]!, limits);
    const result: LaneResult = { index, contribution };
    port!.postMessage(result);
  }
  port!.close();
}

// The parse worker's entry point (a worker_threads thread started by parse-worker-client.ts).
// Reading, YAML/JSON decoding, the expansion bound and the per-kind schemas are all O(file size)
// and some inputs are hostile; here they cost the worker's time and heap, never the event loop
// that serves traffic. The worker keeps no state between files.
import { parentPort, workerData } from 'node:worker_threads';
import { fingerprintContribution } from './contribution-fingerprint.js';
import type { ParseReply, ParseRequest, ParseWorkerData } from './parse-worker-protocol.js';
import { readConfigFile } from './read-config-file.js';

const port = parentPort;
if (port === null) throw new Error('parse-worker.js runs as a worker thread (see parse-worker-client.ts)');
// Set by ParseWorkerClient, the only code that starts this thread.
const { limits } = workerData as ParseWorkerData;

const reply = (message: ParseReply): void => port.postMessage(message);

port.on('message', (request: ParseRequest) => {
  reply({ kind: 'started', id: request.id });
  // Read synchronously: the worker has one file at a time and nothing else to do.
  const contribution = readConfigFile(request.file, limits);
  if (contribution === undefined) reply({ kind: 'vanished', id: request.id });
  else reply({ kind: 'loaded', id: request.id, contribution, fingerprint: fingerprintContribution(contribution) });
});

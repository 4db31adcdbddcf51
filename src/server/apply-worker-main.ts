// The apply worker's entry (a worker thread; state/apply-worker.ts starts it): wiring only.
// Opens its own connection to the control plane's store and answers the host's applies with
// a DesiredState over it.
import { existsSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { serveApplies, type ApplyWorkerData } from '../state/apply-worker.js';
import { loadSecretBox, openWorkerStore } from '../store/index.js';
import { workerLogger } from '../threads/worker-thread.js';

const port = parentPort;
if (port === null) throw new Error('apply-worker-main runs in a worker thread only');
const data = workerData as ApplyWorkerData;
const logger = workerLogger(port, data.logLevel);

// The control plane created the key file before it started this worker: read it, never create.
if (data.secretKeyFile !== undefined && !existsSync(data.secretKeyFile))
  throw new Error(`the apply worker finds no secret key file at ${data.secretKeyFile}`);
const store = await openWorkerStore({
  url: data.storeUrl,
  ...(data.secretKeyFile !== undefined ? { secrets: loadSecretBox(data.secretKeyFile).box } : {}),
});
serveApplies(port, store, data, logger);
logger.debug('apply worker ready');

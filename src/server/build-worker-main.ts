// The build worker's entry (a worker thread; edges/build-worker.ts starts it): wiring only.
// Opens its own connection to the control plane's store, builds the BundleBuilder with the
// options the control plane passed (as data), and answers the host's build requests.
import { existsSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { edgeGeoipDatabase } from '../dns/geoip/edge-database.js';
import { BundleBuilder } from '../edges/builder.js';
import { postSaved, serveBuilds, type BuildWorkerData } from '../edges/build-worker.js';
import { workerLogger } from '../threads/worker-thread.js';
import { loadSecretBox, openWorkerStore } from '../store/index.js';

const port = parentPort;
if (port === null) throw new Error('build-worker-main runs in a worker thread only');
const data = workerData as BuildWorkerData;
const logger = workerLogger(port, data.logLevel);

// The control plane created the key file before it started this worker: read it, never create.
if (data.secretKeyFile !== undefined && !existsSync(data.secretKeyFile))
  throw new Error(`the build worker finds no secret key file at ${data.secretKeyFile}`);
const store = await openWorkerStore({
  url: data.storeUrl,
  ...(data.secretKeyFile !== undefined ? { secrets: loadSecretBox(data.secretKeyFile).box } : {}),
});
const builder = new BundleBuilder({
  store,
  signer: data.signer,
  logger,
  ...(data.nginx !== undefined ? { nginx: data.nginx } : {}),
  ...(data.caddy !== undefined ? { caddy: data.caddy } : {}),
  ...(data.nginxCheckTimeoutMs !== undefined
    ? { nginxCheckTimeoutMs: data.nginxCheckTimeoutMs }
    : {}),
  ...(data.acmeChallengeUrl !== undefined ? { acmeChallengeUrl: data.acmeChallengeUrl } : {}),
  // Its own thread: nothing else waits on its event loop.
  inline: true,
  onSaved: postSaved(port),
  geoip: {
    ...(data.geoipDatabase !== undefined
      ? { country: edgeGeoipDatabase(data.geoipDatabase, 'country', '--geoip-database') }
      : {}),
    ...(data.geoipAsnDatabase !== undefined
      ? { asn: edgeGeoipDatabase(data.geoipAsnDatabase, 'asn', '--geoip-asn-database') }
      : {}),
  },
});
serveBuilds(port, builder, data.testHooks);
logger.debug('build worker ready');

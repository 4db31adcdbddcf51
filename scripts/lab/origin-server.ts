// The lab's origin: an HTTPS server on the origin host (port 443, every address), run by the
// lab with `ip netns exec … node --import tsx origin-server.ts CERT KEY`. Every request is one
// JSON line on stdout (path, Host, SNI), which the lab reads to count what reached the origin.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { TLSSocket } from 'node:tls';

const [certFile, keyFile] = process.argv.slice(2);
if (certFile === undefined || keyFile === undefined) {
  process.stderr.write('usage: origin-server.ts CERT KEY\n');
  process.exit(2);
}

/** A deterministic body of `n` bytes (the large file of step 3). */
const big = Buffer.alloc(8 * 1024 * 1024, 'outpost-lab ');

const server = createServer(
  { cert: readFileSync(certFile), key: readFileSync(keyFile) },
  (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    process.stdout.write(
      JSON.stringify({
        path,
        host: req.headers.host ?? '',
        sni: (req.socket as TLSSocket).servername || null,
        tls: (req.socket as TLSSocket).encrypted === true,
      }) + '\n',
    );
    if (path.startsWith('/big/')) {
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'cache-control': 'max-age=300',
        'content-length': big.length,
      });
      res.end(big);
      return;
    }
    if (path.startsWith('/short/')) {
      // fresh for one second: then only stale-if-error serves it
      res.writeHead(200, { 'content-type': 'text/css', 'cache-control': 'max-age=1' });
      res.end(`/* short ${path} */\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/css', 'cache-control': 'max-age=300' });
    res.end(`/* origin says ${path} */\n`);
  },
);
server.listen(443, '::', () => process.stdout.write('origin listening on 443\n'));
for (const sig of ['SIGTERM', 'SIGINT'] as const)
  process.on(sig, () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });

// A throwaway CA with an OCSP responder on loopback: leaves carry an Authority Information
// Access OCSP URL pointing at it, and every answer is made by the real `openssl ocsp` from the
// CA's index (openssl's own `-port` listener binds every interface, so a small loopback HTTP
// server hands each request to `openssl ocsp -reqin … -respout …`).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { selfSignedCertificate } from './tls.js';

export interface OcspCa {
  caCert: string;
  url: string;
  /** POSTs the responder answered. */
  requests: () => number;
  /** A leaf for `names` with the OCSP URL, listed as valid in the index. */
  issue: (name: string, names: string[]) => { cert: string; key: string; serial: string };
  revoke: (serial: string) => void;
  /** Answers with HTTP 503 while true (a responder that is down). */
  setDown: (down: boolean) => void;
  close: () => Promise<void>;
}

export async function startOcspCa(
  dir: string,
  opts: { validityMinutes?: number } = {},
): Promise<OcspCa> {
  const { certFile: caCrt, keyFile: caKey } = selfSignedCertificate(dir, [], {
    file: 'ocsp-ca',
    subject: 'Outpost OCSP Test CA',
  });
  const index = join(dir, 'index.txt');
  writeFileSync(index, '');
  const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  let count = 0;
  let down = false;
  let serialNo = 0x1000;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      count++;
      if (down || req.method !== 'POST') {
        res.statusCode = 503;
        res.end();
        return;
      }
      const n = count;
      const reqFile = join(dir, `req-${n}.der`);
      const respFile = join(dir, `resp-${n}.der`);
      writeFileSync(reqFile, Buffer.concat(chunks));
      openssl([
        'ocsp',
        '-index',
        index,
        '-CA',
        caCrt,
        '-rsigner',
        caCrt,
        '-rkey',
        caKey,
        '-reqin',
        reqFile,
        '-respout',
        respFile,
        '-nmin',
        String(opts.validityMinutes ?? 60),
      ]);
      res.setHeader('content-type', 'application/ocsp-response');
      res.end(readFileSync(respFile));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    caCert: readFileSync(caCrt, 'utf8'),
    url,
    requests: () => count,
    issue(name, names) {
      const key = join(dir, `${name}.key`);
      const csr = join(dir, `${name}.csr`);
      const crt = join(dir, `${name}.crt`);
      const ext = join(dir, `${name}.ext`);
      const serial = (++serialNo).toString(16).toUpperCase();
      writeFileSync(
        ext,
        `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}\nauthorityInfoAccess=OCSP;URI:${url}\n`,
      );
      const subject = `/CN=${names[0] ?? name}`;
      openssl([
        'req',
        '-new',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-subj',
        subject,
        '-keyout',
        key,
        '-out',
        csr,
      ]);
      openssl([
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        caCrt,
        '-CAkey',
        caKey,
        '-set_serial',
        `0x${serial}`,
        '-days',
        '2',
        '-extfile',
        ext,
        '-out',
        crt,
      ]);
      const expiry = new Date(Date.now() + 2 * 86_400_000)
        .toISOString()
        .replace(/[-:T]/g, '')
        .slice(2, 14);
      writeFileSync(
        index,
        `${readFileSync(index, 'utf8')}V\t${expiry}Z\t\t${serial}\tunknown\t${subject}\n`,
      );
      return { cert: readFileSync(crt, 'utf8'), key: readFileSync(key, 'utf8'), serial };
    },
    revoke(serial) {
      const now = new Date().toISOString().replace(/[-:T]/g, '').slice(2, 14);
      const lines = readFileSync(index, 'utf8')
        .split('\n')
        .map((l) => {
          const f = l.split('\t');
          if (f[3] !== serial) return l;
          return ['R', f[1], `${now}Z`, ...f.slice(3)].join('\t');
        });
      writeFileSync(index, lines.join('\n'));
    },
    setDown(d) {
      down = d;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

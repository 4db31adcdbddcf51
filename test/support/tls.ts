// A throwaway certificate authority and server certificates, made with the real openssl.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCa {
  dir: string;
  caCert: string;
  /** Issues a certificate for `names` signed by the CA: PEM cert and key. */
  issue: (name: string, names: string[]) => { cert: string; key: string };
}

export function makeTestCa(dir: string): TestCa {
  const caKey = join(dir, 'ca.key');
  const caCrt = join(dir, 'ca.crt');
  const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-subj',
    '/CN=Outpost Test CA',
    '-days',
    '2',
    '-keyout',
    caKey,
    '-out',
    caCrt,
  ]);
  return {
    dir,
    caCert: readFileSync(caCrt, 'utf8'),
    issue(name, names) {
      const key = join(dir, `${name}.key`);
      const csr = join(dir, `${name}.csr`);
      const crt = join(dir, `${name}.crt`);
      const ext = join(dir, `${name}.ext`);
      writeFileSync(ext, `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}\n`);
      openssl([
        'req',
        '-new',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-subj',
        `/CN=${names[0] ?? name}`,
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
        '-CAcreateserial',
        '-days',
        '2',
        '-extfile',
        ext,
        '-out',
        crt,
      ]);
      return { cert: readFileSync(crt, 'utf8'), key: readFileSync(key, 'utf8') };
    },
  };
}

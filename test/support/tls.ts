// A throwaway certificate authority and server certificates, made with the real openssl.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';

export interface TestCa {
  dir: string;
  caCert: string;
  /** Issues a certificate for `names` signed by the CA: PEM cert and key (P-256 unless `rsa`). */
  issue: (name: string, names: string[], opts?: { rsa?: boolean }) => { cert: string; key: string };
}

/**
 * A self-signed P-256 certificate valid for two days, written as `<file>.crt` and `<file>.key`
 * in `dir`. `names` become its subjectAltName (IP addresses as IP entries); the subject is
 * `subject`, by default the first name. With no names it has no subjectAltName (a CA root).
 */
export function selfSignedCertificate(
  dir: string,
  names: readonly string[],
  opts: { file?: string; subject?: string } = {},
): { certFile: string; keyFile: string } {
  const file = opts.file ?? 'self-signed';
  const certFile = join(dir, `${file}.crt`);
  const keyFile = join(dir, `${file}.key`);
  const san = names.map((n) => (isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-subj',
      `/CN=${opts.subject ?? names[0] ?? file}`,
      ...(san === '' ? [] : ['-addext', `subjectAltName=${san}`]),
      '-days',
      '2',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'pipe' },
  );
  return { certFile, keyFile };
}

export function makeTestCa(dir: string): TestCa {
  const { certFile: caCrt, keyFile: caKey } = selfSignedCertificate(dir, [], {
    file: 'ca',
    subject: 'Outpost Test CA',
  });
  const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  return {
    dir,
    caCert: readFileSync(caCrt, 'utf8'),
    issue(name, names, opts = {}) {
      const key = join(dir, `${name}.key`);
      const csr = join(dir, `${name}.csr`);
      const crt = join(dir, `${name}.crt`);
      const ext = join(dir, `${name}.ext`);
      writeFileSync(ext, `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}\n`);
      openssl([
        'req',
        '-new',
        '-newkey',
        ...(opts.rsa === true ? ['rsa:2048'] : ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256']),
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

// `outpost cert`: list, show, upload (bring your own), issue with live progress, remove.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { AttemptView, CertificateRow } from '../../certs/index.js';
import type { ApiClient } from '../client.js';
import { CliError } from '../errors.js';
import { table, type Output } from '../output.js';

export interface CertCommandContext {
  client: () => ApiClient;
  out: Output;
  /** Milliseconds between status polls while waiting for edges (tests shorten it). */
  pollMs?: number;
}

interface StatusEdge {
  name: string;
  applied_release: number | null;
}

const enc = encodeURIComponent;

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(
      `cannot read the ${what} file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
}

function day(iso: string | null): string {
  return iso === null ? '-' : iso.slice(0, 10);
}

export function registerCertCommands(program: Command, ctx: CertCommandContext): void {
  const { out } = ctx;
  const cert = program
    .command('cert')
    .description('certificates: list, issue now (ACME), upload your own, remove');

  cert
    .command('list')
    .description('each site: names, issuer, expiry, days left, next renewal, last error')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const { certificates } = await ctx
        .client()
        .request<{ certificates: CertificateRow[] }>('GET', 'v1/certificates');
      if (o.json) return out.json(certificates);
      if (certificates.length === 0) return out.line('No sites.');
      out.line(
        table([
          ['SITE', 'NAMES', 'SOURCE', 'ISSUER', 'NOT AFTER', 'DAYS', 'NEXT RENEWAL', 'LAST ERROR'],
          ...certificates.map((c) => [
            c.domain,
            (c.certificate_names ?? c.names).join(','),
            c.source ?? (c.acme ? 'none yet' : 'none (acme off)'),
            c.issuer ?? '-',
            day(c.not_after),
            c.days_left === null ? '-' : String(c.days_left),
            c.problem !== null ? `never: ${c.problem}` : day(c.next_renewal),
            c.last_error ?? '-',
          ]),
        ]),
      );
    });

  cert
    .command('show <site>')
    .description("a site's certificate as JSON, with its public chain (never the key)")
    .action(async (site: string) => {
      const r = await ctx
        .client()
        .request<{ certificate: unknown }>('GET', `v1/certificates/${enc(site)}`);
      out.json(r.certificate);
    });

  cert
    .command('upload <site>')
    .description('use your own certificate for a site instead of ACME (PEM chain and key)')
    .requiredOption('--cert <file>', 'PEM certificate chain: the leaf first, then intermediates')
    .requiredOption('--key <file>', 'PEM private key (unencrypted)')
    .action(async (site: string, o: { cert: string; key: string }) => {
      const body = { certificate: readPem(o.cert, 'certificate'), key: readPem(o.key, 'key') };
      const r = await ctx
        .client()
        .request<{ certificate: CertificateRow }>('PUT', `v1/certificates/${enc(site)}`, body);
      const c = r.certificate;
      out.line(
        `Uploaded the certificate of ${site}: ${(c.certificate_names ?? []).join(', ')}, issued by ${c.issuer ?? '?'}, valid until ${c.not_after ?? '?'} (${c.days_left ?? '?'} days).`,
      );
      out.line(
        `It goes to ${c.edges.length} edge${c.edges.length === 1 ? '' : 's'}: ${c.edges.join(', ') || '-'}.`,
      );
    });

  cert
    .command('rm <site>')
    .description(
      "remove a site's stored certificate and key (the site falls back to HTTP); refused while the site sends HSTS",
    )
    .option(
      '--force',
      'remove it even though the site sends HSTS (browsers that saw it are locked out)',
    )
    .action(async (site: string, o: { force?: boolean }) => {
      const query = o.force === true ? '?force=true' : '';
      await ctx.client().request('DELETE', `v1/certificates/${enc(site)}${query}`);
      out.line(`Removed the certificate of ${site}.`);
    });

  cert
    .command('issue <site>')
    .description('issue or renew a certificate now (ACME), showing each step until edges have it')
    .option('--timeout <seconds>', 'how long to wait for edges to take it', (v) => Number(v), 120)
    .option('--no-wait', 'return once issued, without waiting for the edges')
    .action(async (site: string, o: { timeout: number; wait: boolean }) => {
      const client = ctx.client();
      const started = Date.now();
      const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
      let { attempt } = await client.request<{ attempt: AttemptView }>(
        'POST',
        `v1/certificates/${enc(site)}/issue`,
      );
      let seen = 0;
      for (;;) {
        for (const e of attempt.events.filter((x) => x.seq > seen)) {
          out.line(`[${elapsed()}] ${e.step}: ${e.message}`);
          seen = e.seq;
        }
        if (attempt.done) break;
        ({ attempt } = await client.request<{ attempt: AttemptView }>(
          'GET',
          `v1/certificates/${enc(site)}/attempts/${attempt.id}?after=${seen}&wait=10`,
        ));
      }
      if (!attempt.ok) throw new CliError(`no certificate was issued for ${site}`);
      const releases = attempt.events.find((e) => e.step === 'published')?.releases ?? {};
      const edges = Object.keys(releases);
      if (!o.wait || edges.length === 0) {
        if (edges.length === 0) out.line('No edge serves this site: nothing to deliver.');
        return;
      }
      const deadline = Date.now() + o.timeout * 1000;
      let delivered = -1;
      for (;;) {
        const status = await client.request<{ edges: StatusEdge[] }>('GET', 'v1/status');
        const have = edges.filter((name) => {
          const applied = status.edges.find((e) => e.name === name)?.applied_release ?? null;
          return applied !== null && applied >= (releases[name] ?? Infinity);
        });
        if (have.length !== delivered) {
          delivered = have.length;
          out.line(`[${elapsed()}] delivered to ${delivered}/${edges.length} edges`);
        }
        if (delivered === edges.length) return;
        if (Date.now() > deadline) {
          const missing = edges.filter((e) => !have.includes(e));
          throw new CliError(
            `issued, but ${missing.join(', ')} did not take the certificate within ${o.timeout} s (see outpost status)`,
          );
        }
        await new Promise((r) => setTimeout(r, ctx.pollMs ?? 500));
      }
    });
}

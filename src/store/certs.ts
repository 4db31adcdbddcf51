// Certificates (keys apart: only `certificateKey` returns one), renewal state, HTTP-01 answers.
import type { Connection } from './connection.js';
import { StoreDataError } from './errors.js';
import type { CertificateTable } from './schema.js';
import { insertEvent } from './settings.js';
import type {
  AcmeChallenge,
  CertificateQueries,
  CertificateRenewal,
  NewAuditEvent,
  StoredCertificate,
} from './types.js';

export function certificateQueries(c: Connection): CertificateQueries {
  return {
    async listCertificates(): Promise<StoredCertificate[]> {
      const rows = await c.db
        .selectFrom('certificates')
        .select(CERTIFICATE_COLUMNS)
        .orderBy('domain')
        .execute();
      return rows.map(certificateOf);
    },

    async getCertificate(domain: string): Promise<StoredCertificate | undefined> {
      const row = await c.db
        .selectFrom('certificates')
        .select(CERTIFICATE_COLUMNS)
        .where('domain', '=', domain)
        .executeTakeFirst();
      return row === undefined ? undefined : certificateOf(row);
    },

    async certificateKey(domain: string): Promise<string | undefined> {
      const row = await c.db
        .selectFrom('certificates')
        .select('key_pem')
        .where('domain', '=', domain)
        .executeTakeFirst();
      return row === undefined ? undefined : c.secrets.open(row.key_pem);
    },

    async saveCertificate(
      certificate: Omit<StoredCertificate, 'created_at'> & { key_pem: string },
      event: NewAuditEvent,
    ): Promise<StoredCertificate> {
      const at = c.now().toISOString();
      const row = {
        ...certificate,
        names: JSON.stringify(certificate.names),
        key_pem: c.secrets.seal(certificate.key_pem),
        created_at: at,
      };
      await c.transaction(async (trx) => {
        await trx
          .insertInto('certificates')
          .values(row)
          .onConflict((oc) => oc.column('domain').doUpdateSet(omit(row, 'domain')))
          .execute();
        await insertEvent(trx, at, event);
      });
      return { ...omit(certificate, 'key_pem'), created_at: at };
    },

    async deleteCertificate(domain: string, event: NewAuditEvent): Promise<boolean> {
      return c.transaction(async (trx) => {
        const r = await trx
          .deleteFrom('certificates')
          .where('domain', '=', domain)
          .executeTakeFirst();
        if (r.numDeletedRows === 0n) return false;
        await trx.deleteFrom('certificate_renewals').where('domain', '=', domain).execute();
        await insertEvent(trx, c.now().toISOString(), event);
        return true;
      });
    },

    async listCertificateRenewals(): Promise<CertificateRenewal[]> {
      return c.db
        .selectFrom('certificate_renewals')
        .select(['domain', 'failures', 'last_attempt_at', 'last_error', 'next_attempt_at'])
        .orderBy('domain')
        .execute();
    },

    async saveCertificateRenewal(renewal: CertificateRenewal): Promise<void> {
      const row = { ...renewal, updated_at: c.now().toISOString() };
      await c.db
        .insertInto('certificate_renewals')
        .values(row)
        .onConflict((oc) => oc.column('domain').doUpdateSet(omit(row, 'domain')))
        .execute();
    },

    async putAcmeChallenge(challenge: AcmeChallenge): Promise<void> {
      await c.db
        .insertInto('acme_challenges')
        .values(challenge)
        .onConflict((oc) => oc.column('token').doUpdateSet(omit(challenge, 'token')))
        .execute();
    },

    async getAcmeChallenge(token: string, now: Date): Promise<AcmeChallenge | undefined> {
      return c.db
        .selectFrom('acme_challenges')
        .selectAll()
        .where('token', '=', token)
        .where('expires_at', '>', now.toISOString())
        .executeTakeFirst();
    },

    async deleteAcmeChallenge(token: string, now: Date): Promise<void> {
      await c.db
        .deleteFrom('acme_challenges')
        .where((eb) => eb.or([eb('token', '=', token), eb('expires_at', '<=', now.toISOString())]))
        .execute();
    },
  };
}

function omit<T extends object, K extends keyof T>(value: T, key: K): Omit<T, K> {
  const copy = { ...value };
  delete copy[key];
  return copy;
}

/** Every column of `certificates` but the private key. */
const CERTIFICATE_COLUMNS = [
  'domain',
  'source',
  'names',
  'chain_pem',
  'issuer',
  'serial',
  'not_before',
  'not_after',
  'created_at',
] as const;

function certificateOf(
  row: Pick<CertificateTable, (typeof CERTIFICATE_COLUMNS)[number]>,
): StoredCertificate {
  if (row.source !== 'acme' && row.source !== 'upload')
    throw new StoreDataError(
      `the stored certificate of "${row.domain}" has source "${row.source}", not acme or upload`,
    );
  let names: unknown;
  try {
    names = JSON.parse(row.names);
  } catch (cause) {
    throw new StoreDataError(`the stored names of certificate "${row.domain}" are not JSON`, {
      cause,
    });
  }
  if (!Array.isArray(names) || !names.every((n) => typeof n === 'string'))
    throw new StoreDataError(
      `the stored names of certificate "${row.domain}" are not a list of strings`,
    );
  return { ...row, source: row.source, names };
}

import { describe, expect, it } from 'vitest';
import type { PurgeJob } from '../spec/index.js';
import { generateSigningKey } from './bundle.js';
import { PurgeVerificationError, signPurgeJob, verifyPurgeJob } from './purge-signature.js';

const key = generateSigningKey();
const other = generateSigningKey();
const job: PurgeJob = {
  id: 41,
  site: 'example.com',
  hosts: ['example.com', 'www.example.com'],
  request: { kind: 'urls', paths: ['/a.js'] },
  tag_headers: ['cache-tag'],
  created_at: '2026-01-01T00:00:00.000Z',
};

function refusal(fn: () => unknown): PurgeVerificationError {
  try {
    fn();
  } catch (err) {
    if (err instanceof PurgeVerificationError) return err;
    throw err;
  }
  throw new Error('the job was accepted');
}

describe('purge job signatures', () => {
  it('verifies what it signed, for the edge it was signed for', () => {
    const signed = signPurgeJob(job, 'hk1', key.privateKeyPem);
    expect(verifyPurgeJob(signed, key.publicKeyPem, 'hk1')).toEqual(job);
    const e = refusal(() => verifyPurgeJob(signed, key.publicKeyPem, 'fra1'));
    expect(e.message).toBe('the purge job is for edge "hk1", not "fra1"');
    expect(e.id).toBe(41);
  });

  it('refuses a tampered job, naming the id it claims', () => {
    const signed = signPurgeJob(job, 'hk1', key.privateKeyPem);
    const tampered = { ...signed, job: signed.job.replace('"/a.js"', '"/"') };
    expect(tampered.job).not.toBe(signed.job);
    const e = refusal(() => verifyPurgeJob(tampered, key.publicKeyPem, 'hk1'));
    expect(e.message).toBe('the purge job signature does not verify with the pinned key');
    expect(e.id).toBe(41);
  });

  it('refuses a job signed with another key, and an unsigned one', () => {
    const foreign = signPurgeJob(job, 'hk1', other.privateKeyPem);
    expect(refusal(() => verifyPurgeJob(foreign, key.publicKeyPem, 'hk1')).message).toContain(
      'does not verify',
    );
    // What the control plane sent before jobs were signed.
    const e = refusal(() => verifyPurgeJob(job, key.publicKeyPem, 'hk1'));
    expect(e.message).toBe('the purge job is not signed');
    expect(e.id).toBeUndefined();
  });

  it('refuses a validly signed payload that is not a purge job', () => {
    const bad = signPurgeJob({ ...job, hosts: [] }, 'hk1', key.privateKeyPem);
    expect(refusal(() => verifyPurgeJob(bad, key.publicKeyPem, 'hk1')).message).toMatch(
      /^the purge job is invalid/,
    );
  });
});

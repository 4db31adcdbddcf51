// Purge jobs travel outside the signed bundle (through the long-poll), so each one is signed
// with the same Ed25519 key as the bundles and verified by the agent against the key it pinned
// when it joined: a network attacker, or a proxy in between, cannot inject or alter a purge.
//
// On the wire a job is `{job, signature}` where `job` is the exact JSON text that was signed:
// `{"edge": …, "job": {…}}`. The edge name is inside the signed text, so a job signed for one
// edge is refused by another.
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { PurgeJob } from '../spec/index.js';

export const SignedPurgeJob = z.object({ job: z.string(), signature: z.string() }).strict();
export type SignedPurgeJob = z.infer<typeof SignedPurgeJob>;

const SignedPayload = z.object({ edge: z.string(), job: PurgeJob }).strict();

export class PurgeVerificationError extends Error {
  readonly code = 'purge_invalid';
  constructor(
    message: string,
    /** The job's id when it could be read (to report the refusal), else undefined. */
    readonly id?: number,
  ) {
    super(message);
    this.name = 'PurgeVerificationError';
  }
}

const keys = new Map<string, KeyObject>();
function key(pem: string, make: (pem: string) => KeyObject): KeyObject {
  let k = keys.get(pem);
  if (!k) {
    k = make(pem);
    keys.set(pem, k);
  }
  return k;
}

export function signPurgeJob(job: PurgeJob, edge: string, privateKeyPem: string): SignedPurgeJob {
  const text = JSON.stringify({ edge, job });
  const signature = sign(null, Buffer.from(text), key(privateKeyPem, createPrivateKey));
  return { job: text, signature: signature.toString('base64') };
}

/** The id a refused job claims (unverified: only to report the refusal). */
function claimedId(text: string): number | undefined {
  try {
    const id = (JSON.parse(text) as { job?: { id?: unknown } }).job?.id;
    return typeof id === 'number' && Number.isInteger(id) && id > 0 ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Checks the signature against the pinned key, then the job's shape and edge. */
export function verifyPurgeJob(
  body: unknown,
  publicKeyPem: string,
  expectedEdge: string,
): PurgeJob {
  const parsed = SignedPurgeJob.safeParse(body);
  if (!parsed.success) throw new PurgeVerificationError('the purge job is not signed');
  const { job: text, signature } = parsed.data;
  const ok = verify(
    null,
    Buffer.from(text),
    key(publicKeyPem, createPublicKey),
    Buffer.from(signature, 'base64'),
  );
  if (!ok)
    throw new PurgeVerificationError(
      'the purge job signature does not verify with the pinned key',
      claimedId(text),
    );
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new PurgeVerificationError('the purge job is not JSON');
  }
  const payload = SignedPayload.safeParse(json);
  if (!payload.success)
    throw new PurgeVerificationError(
      `the purge job is invalid: ${payload.error.issues[0]?.message ?? ''}`,
      claimedId(text),
    );
  if (payload.data.edge !== expectedEdge)
    throw new PurgeVerificationError(
      `the purge job is for edge "${payload.data.edge}", not "${expectedEdge}"`,
      payload.data.job.id,
    );
  return payload.data.job;
}

// The stored OCSP response of a site's certificate (certs/ocsp.ts fetches it, the bundle
// builder ships it for `ssl_stapling_file`). Kept as a control-plane setting under
// `ocspSettingKey(domain)`: one small value per certificate, replaced on each refresh.
import { z } from 'zod';

export const StoredOcspStaple = z
  .object({
    /** The DER OCSPResponse, base64. */
    der: z.string().min(1),
    /** Serial of the certificate it is about (hex, upper case): a new certificate needs a new one. */
    serial: z.string().min(1),
    this_update: z.string().datetime(),
    next_update: z.string().datetime().nullable(),
    /** When it should be fetched again (halfway to next_update). */
    refresh_at: z.string().datetime(),
  })
  .strict();
export type StoredOcspStaple = z.infer<typeof StoredOcspStaple>;

export function ocspSettingKey(domain: string): string {
  return `ocsp:${domain}`;
}

/** The stored staple in a setting's value, or undefined when there is none or it is unreadable. */
export function parseOcspStaple(value: string | undefined): StoredOcspStaple | undefined {
  if (value === undefined || value === '') return undefined;
  try {
    const parsed = StoredOcspStaple.safeParse(JSON.parse(value));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

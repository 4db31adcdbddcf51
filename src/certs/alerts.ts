// Certificates about to expire (or failing to renew), as alerts of the status snapshot.
import type { Store } from '../store/types.js';
import { certificateAlerts } from './policy.js';

export interface CertificateStatusAlert {
  kind: 'cert_expiring';
  subject: string;
  message: string;
  since: null;
}

export function certificateAlertSource(
  store: Pick<Store, 'readSharedState' | 'listCertificates' | 'listCertificateRenewals'>,
  now: () => Date,
): () => Promise<CertificateStatusAlert[]> {
  return async () => {
    // The shared, frozen state (no copy of every site per status snapshot; nothing here edits it).
    const [{ spec }, certificates, renewals] = await Promise.all([
      store.readSharedState(),
      store.listCertificates(),
      store.listCertificateRenewals(),
    ]);
    return certificateAlerts({ spec, certificates, renewals, now: now() }).map((a) => ({
      kind: 'cert_expiring',
      subject: a.domain,
      message: a.message,
      since: null,
    }));
  };
}

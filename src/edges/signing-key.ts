// The control plane's Ed25519 key that signs every bundle. Created at first start, kept in the
// store (file mode 0600); edges pin its public key when they join.
import { generateSigningKey, keyFingerprint, type SigningKey } from '../bundle/index.js';
import type { Store } from '../store/types.js';

const SETTING = 'bundle_signing_key';

export interface BundleSigner extends SigningKey {
  fingerprint: string;
}

export async function ensureSigningKey(store: Store): Promise<BundleSigner> {
  const stored = await store.getSetting(SETTING);
  let key: SigningKey;
  if (stored) {
    key = JSON.parse(stored) as SigningKey;
  } else {
    key = generateSigningKey();
    await store.setSetting(SETTING, JSON.stringify(key));
    await store.appendEvent({
      actor: 'system',
      action: 'bundle.key.create',
      subject: '',
      detail: {},
    });
  }
  return { ...key, fingerprint: keyFingerprint(key.publicKeyPem) };
}

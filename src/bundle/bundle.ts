// Release bundles: what one edge serves, immutable, content-addressed (SHA-256) and signed with
// the control plane's Ed25519 key. Shared by the server (build, sign) and the agent (verify).
//
// On the wire a bundle is `{manifest, hash, signature}` where `manifest` is the exact JSON text
// that was hashed and signed: the agent verifies the bytes it received, then parses them.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { z } from 'zod';

export const BUNDLE_FORMAT = 1;

export const BundleFile = z
  .object({
    /** Relative to the release directory; no `..`, no absolute paths. */
    path: z
      .string()
      .regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, 'must be a relative path of safe characters')
      .refine((p) => !p.split('/').includes('..'), 'must not contain ".."'),
    /** File mode: 0644 for config, 0600 for private keys. */
    mode: z.union([z.literal(0o644), z.literal(0o600)]),
    /** Base64 of the content. */
    content: z.string(),
  })
  .strict();
export type BundleFile = z.infer<typeof BundleFile>;

export const BundleManifest = z
  .object({
    format: z.literal(BUNDLE_FORMAT),
    edge: z.string(),
    release: z.number().int().positive(),
    revision: z.number().int().nonnegative(),
    proxy: z.enum(['nginx', 'caddy']),
    /** Where the agent checks, after a reload, that the new release answers. */
    probe: z.object({ url: z.string().url() }).strict(),
    files: z.array(BundleFile),
  })
  .strict();
export type BundleManifest = z.infer<typeof BundleManifest>;

export const SignedBundle = z
  .object({ manifest: z.string(), hash: z.string().regex(/^[0-9a-f]{64}$/), signature: z.string() })
  .strict();
export type SignedBundle = z.infer<typeof SignedBundle>;

export interface SourceFile {
  path: string;
  content: string | Buffer;
  secret?: boolean;
}

/** The manifest for a set of files; files sorted by path so the same input gives the same bytes. */
export function buildManifest(
  input: Omit<BundleManifest, 'format' | 'files'> & { files: SourceFile[] },
): BundleManifest {
  const files = [...input.files]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((f) => ({
      path: f.path,
      mode: f.secret ? 0o600 : 0o644,
      content: Buffer.from(f.content).toString('base64'),
    }));
  return BundleManifest.parse({
    format: BUNDLE_FORMAT,
    edge: input.edge,
    release: input.release,
    revision: input.revision,
    proxy: input.proxy,
    probe: input.probe,
    files,
  });
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * What a bundle serves: two renderings with the same key would configure the edge identically,
 * so no new release (and no reload) is needed. Compute it on a rendering made with a fixed
 * release number, since the release appears in the rendered files.
 */
export function contentKey(
  input: Pick<BundleManifest, 'edge' | 'proxy' | 'probe'> & { files: SourceFile[] },
): string {
  const files = [...input.files]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((f) => [f.path, f.secret === true, sha256Hex(Buffer.from(f.content))]);
  return sha256Hex(
    JSON.stringify({ edge: input.edge, proxy: input.proxy, probe: input.probe, files }),
  );
}

export interface SigningKey {
  privateKeyPem: string;
  publicKeyPem: string;
}

export function generateSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** `sha256:<hex>` of the public key's DER: what an edge pins at join time. */
export function keyFingerprint(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return `sha256:${sha256Hex(der)}`;
}

/** Parsing a PEM key costs more than signing with it: keep the parsed keys. */
const parsedKeys = new Map<string, KeyObject>();

export function signManifest(manifest: BundleManifest, privateKeyPem: string): SignedBundle {
  const text = JSON.stringify(manifest);
  const hash = sha256Hex(text);
  let key = parsedKeys.get(privateKeyPem);
  if (!key) {
    key = createPrivateKey(privateKeyPem);
    parsedKeys.set(privateKeyPem, key);
  }
  const signature = sign(null, Buffer.from(text), key).toString('base64');
  return { manifest: text, hash, signature };
}

export class BundleVerificationError extends Error {
  readonly code = 'bundle_invalid';
  constructor(message: string) {
    super(message);
    this.name = 'BundleVerificationError';
  }
}

/** Checks hash and signature against the pinned key, then the manifest's shape and edge. */
export function verifyBundle(
  body: unknown,
  publicKeyPem: string,
  expectedEdge: string,
): BundleManifest {
  const parsed = SignedBundle.safeParse(body);
  if (!parsed.success)
    throw new BundleVerificationError('the bundle is not in the expected format');
  const { manifest, hash, signature } = parsed.data;
  if (sha256Hex(manifest) !== hash)
    throw new BundleVerificationError('the bundle hash does not match its content');
  const ok = verify(
    null,
    Buffer.from(manifest),
    createPublicKey(publicKeyPem),
    Buffer.from(signature, 'base64'),
  );
  if (!ok)
    throw new BundleVerificationError('the bundle signature does not verify with the pinned key');
  let json: unknown;
  try {
    json = JSON.parse(manifest);
  } catch {
    throw new BundleVerificationError('the bundle manifest is not JSON');
  }
  const m = BundleManifest.safeParse(json);
  if (!m.success)
    throw new BundleVerificationError(
      `the bundle manifest is invalid: ${m.error.issues[0]?.message ?? ''}`,
    );
  if (m.data.edge !== expectedEdge)
    throw new BundleVerificationError(
      `the bundle is for edge "${m.data.edge}", not "${expectedEdge}"`,
    );
  return m.data;
}

export function fileContent(file: BundleFile): Buffer {
  return Buffer.from(file.content, 'base64');
}

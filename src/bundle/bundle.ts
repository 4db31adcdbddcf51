// Release bundles: what one edge serves, immutable and signed with the control plane's Ed25519
// key. Shared by the server (build, sign) and the agent (verify).
//
// A release is a signed manifest of file hashes (format 2): `files` names each file of the
// release by path, mode, SHA-256 and size; `lists` names file lists (JSON arrays of the same
// entries, stored and fetched like files), so the thousands of per-site files an edge shares
// with other edges are one list, signed by its hash. Signing is proportional to the number of
// entries, not to the bytes. Contents travel beside the signed text (`blobs`, or fetched from
// the edge API's file route) and are checked against their hash before use.
//
// On the wire a bundle is `{manifest, hash, signature, blobs?}` where `manifest` is the exact
// JSON text that was hashed and signed: the agent verifies the bytes it received, then parses
// them.
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

export const BUNDLE_FORMAT = 2;

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 in hex');

export const BundleFile = z
  .object({
    /** Relative to the release directory; no `..`, no absolute paths. */
    path: z
      .string()
      .regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, 'must be a relative path of safe characters')
      .refine((p) => !p.split('/').includes('..'), 'must not contain ".."'),
    /** File mode: 0644 for config, 0600 for private keys. */
    mode: z.union([z.literal(0o644), z.literal(0o600)]),
    /** SHA-256 (hex) of the content. */
    sha256: Sha256,
    size: z.number().int().nonnegative(),
  })
  .strict();
export type BundleFile = z.infer<typeof BundleFile>;

/** A file list (the content of a blob a manifest names in `lists`). */
export const FileList = z.array(BundleFile);

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
    /** File lists whose entries are part of the release too. */
    lists: z.array(z.object({ sha256: Sha256, size: z.number().int().nonnegative() }).strict()),
  })
  .strict();
export type BundleManifest = z.infer<typeof BundleManifest>;

export const SignedBundle = z
  .object({
    manifest: z.string(),
    hash: Sha256,
    signature: z.string(),
    /** Base64 contents by SHA-256 (not signed: each is checked against its hash). */
    blobs: z.record(z.string()).optional(),
  })
  .strict();
export type SignedBundle = z.infer<typeof SignedBundle>;

export interface SourceFile {
  path: string;
  content: string | Buffer;
  secret?: boolean;
}

/** A file of a release with its content and hash (what the builder keeps and stores). */
export interface HashedFile {
  entry: BundleFile;
  content: Buffer;
}

const byPath = (a: { path: string }, b: { path: string }) =>
  a.path < b.path ? -1 : a.path > b.path ? 1 : 0;

export function hashFile(f: SourceFile): HashedFile {
  const content = Buffer.from(f.content);
  return {
    entry: {
      path: f.path,
      mode: f.secret ? 0o600 : 0o644,
      sha256: sha256Hex(content),
      size: content.length,
    },
    content,
  };
}

/** A file list blob: its entries sorted by path, as JSON. */
export function fileListBlob(
  entries: readonly BundleFile[],
): HashedFile & { entries: BundleFile[] } {
  const sorted = [...entries].sort(byPath);
  const content = Buffer.from(JSON.stringify(sorted));
  return {
    entries: sorted,
    entry: { path: 'list', mode: 0o644, sha256: sha256Hex(content), size: content.length },
    content,
  };
}

/** Entries per file list, on average (fileListChunks). */
export const LIST_CHUNK_ENTRIES = 128;
/** At most this many entries in one list, whatever the paths. */
export const LIST_CHUNK_MAX = 1024;

/**
 * Entries split into file lists (each sorted by path) whose boundaries depend on the paths
 * alone: a list ends after an entry whose path hashes to 0 modulo LIST_CHUNK_ENTRIES (FNV-1a).
 * A change of one file changes one list; adding or removing one changes one or two. A
 * manifest of 10,000 sites names ~80 lists, and a one-site change sends ~20 KiB of list, not
 * the whole 1.4 MiB.
 */
export function fileListChunks(entries: readonly BundleFile[]): BundleFile[][] {
  const sorted = [...entries].sort(byPath);
  const chunks: BundleFile[][] = [];
  let current: BundleFile[] = [];
  for (const e of sorted) {
    current.push(e);
    if (current.length >= LIST_CHUNK_MAX || fnv1a(e.path) % LIST_CHUNK_ENTRIES === 0) {
      chunks.push(current);
      current = [];
    }
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The manifest for a set of files and lists; files sorted by path (same input, same bytes). */
export function buildManifest(
  input: Omit<BundleManifest, 'format' | 'files' | 'lists'> & {
    files: readonly BundleFile[];
    lists?: readonly { sha256: string; size: number }[];
  },
): BundleManifest {
  return BundleManifest.parse({
    format: BUNDLE_FORMAT,
    edge: input.edge,
    release: input.release,
    revision: input.revision,
    proxy: input.proxy,
    probe: input.probe,
    files: [...input.files].sort(byPath),
    lists: (input.lists ?? []).map((l) => ({ sha256: l.sha256, size: l.size })),
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
  input: Pick<BundleManifest, 'edge' | 'proxy' | 'probe'> & {
    files: readonly BundleFile[];
    lists?: readonly { sha256: string }[];
  },
): string {
  const files = [...input.files].sort(byPath).map((f) => [f.path, f.mode, f.sha256]);
  const lists = (input.lists ?? []).map((l) => l.sha256);
  return sha256Hex(
    JSON.stringify({ edge: input.edge, proxy: input.proxy, probe: input.probe, files, lists }),
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

/** A release's file with its verified content. */
export interface ResolvedFile extends BundleFile {
  content: Buffer;
}

/**
 * Every file entry of a verified manifest, its lists expanded: each list's content is checked
 * against the hash the signature covers, and no path may appear twice.
 */
export function expandManifest(
  manifest: BundleManifest,
  lists: ReadonlyMap<string, Buffer>,
): BundleFile[] {
  const entries: BundleFile[] = [...manifest.files];
  for (const l of manifest.lists) {
    const content = lists.get(l.sha256);
    if (content === undefined || sha256Hex(content) !== l.sha256)
      throw new BundleVerificationError(
        `the file list ${l.sha256} is missing or does not match its hash`,
      );
    let json: unknown;
    try {
      json = JSON.parse(content.toString('utf8'));
    } catch {
      throw new BundleVerificationError(`the file list ${l.sha256} is not JSON`);
    }
    const parsed = FileList.safeParse(json);
    if (!parsed.success)
      throw new BundleVerificationError(
        `the file list ${l.sha256} is invalid: ${parsed.error.issues[0]?.message ?? ''}`,
      );
    entries.push(...parsed.data);
  }
  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(e.path)) throw new BundleVerificationError(`the release names "${e.path}" twice`);
    seen.add(e.path);
  }
  return entries.sort(byPath);
}

/** The entries with their contents, each checked against its size and hash; none may lack. */
export function checkContents(
  entries: readonly BundleFile[],
  contents: ReadonlyMap<string, Buffer>,
): ResolvedFile[] {
  return entries.map((e) => {
    const content = contents.get(e.sha256);
    if (content === undefined || content.length !== e.size || sha256Hex(content) !== e.sha256)
      throw new BundleVerificationError(
        `the content of "${e.path}" is missing or does not match its hash`,
      );
    return { ...e, content };
  });
}

/** Every file of a verified manifest with its checked content (`blobs`: contents by hash). */
export async function resolveFiles(
  manifest: BundleManifest,
  blobs: (hashes: string[]) => Promise<ReadonlyMap<string, Buffer>>,
): Promise<ResolvedFile[]> {
  const entries = expandManifest(manifest, await blobs(manifest.lists.map((l) => l.sha256)));
  return checkContents(entries, await blobs([...new Set(entries.map((e) => e.sha256))]));
}

/** The contents a signed bundle carries (`blobs`), by hash; unchecked until resolveFiles. */
export function inlineBlobs(body: unknown): Map<string, Buffer> {
  const parsed = SignedBundle.safeParse(body);
  const out = new Map<string, Buffer>();
  if (!parsed.success || parsed.data.blobs === undefined) return out;
  for (const [hash, b64] of Object.entries(parsed.data.blobs))
    out.set(hash, Buffer.from(b64, 'base64'));
  return out;
}

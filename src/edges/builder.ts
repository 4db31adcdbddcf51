// Builds each edge's release bundle whenever the desired state changes: compile the edge's
// plan, render it, and publish a new signed release only when what the edge serves changed.
// Long-polling edges are woken the moment their bundle changes.
import { EventEmitter } from 'node:events';
import type { FastifyBaseLogger } from 'fastify';
import { buildManifest, contentKey, signManifest, type SourceFile } from '../bundle/index.js';
import { compileEdgePlan } from '../compile/index.js';
import { checkCaddyConfig } from '../proxy-check/caddy-check.js';
import { RenderError } from '../render/escape.js';
import { checkNginxConfig } from '../proxy-check/nginx-check.js';
import { certificatePaths, ocspStaplePath } from '../render/index.js';
import { rendererFor } from '../render/renderer.js';
import { ocspSettingKey, parseOcspStaple, type Edge } from '../spec/index.js';
import type { Store, StoredBundle } from '../store/types.js';
import type { Worker } from '../spec/worker.js';
import type { BundleSigner } from './signing-key.js';

export interface BundleBuilderOptions {
  store: Store;
  /** Called after a bundle is stored (several control planes: announce it to the others). */
  onPublished?: () => void;
  signer: BundleSigner;
  logger: FastifyBaseLogger;
  /** nginx binary to check rendered configs before publishing; undefined: no check here. */
  nginx?: string;
  /** caddy binary to check Caddy edges' renderings (`caddy validate`); undefined: no check. */
  caddy?: string;
  /** How long `nginx -t` may take per edge; default: checkTimeoutFor(the rendering). */
  nginxCheckTimeoutMs?: number;
  /** The control plane's public URL: edges proxy ACME HTTP-01 requests there. */
  acmeChallengeUrl?: string;
}

/** Why an edge's newest rendering was not published, if it was not. */
export interface BuildError {
  edge: string;
  revision: number;
  message: string;
  at: string;
}

export class BundleBuilder implements Worker {
  readonly name = 'bundles';
  private chain: Promise<void> = Promise.resolve();
  private readonly changed = new EventEmitter();
  private readonly errors = new Map<string, BuildError>();
  private closed = false;
  /**
   * Whether this control plane builds bundles. Several control planes on one database: only
   * the leader does (server/cluster.ts), so each change is built once; the others serve the
   * stored bundles and learn of new ones through `refreshFromStore`.
   */
  private building = true;
  /** The hash last handed to waiters, per edge (refreshFromStore wakes only on a change). */
  private readonly seen = new Map<string, string>();

  constructor(private readonly opts: BundleBuilderOptions) {
    this.changed.setMaxListeners(0);
  }

  /** Builds (leader, or alone) or only serves stored bundles (another control plane leads). */
  setBuilding(building: boolean): void {
    this.building = building;
  }

  /** Wakes the long-polls of edges whose newest stored bundle is not the one they were given. */
  async refreshFromStore(): Promise<void> {
    for (const bundle of await this.opts.store.latestBundles()) {
      if (this.seen.get(bundle.edge) === bundle.hash) continue;
      this.seen.set(bundle.edge, bundle.hash);
      this.changed.emit(bundle.edge, bundle);
    }
  }

  /** Rebuilds every edge's bundle from the stored state; calls are serialised. */
  rebuild(): Promise<void> {
    if (!this.building) return this.chain;
    const run = this.chain.then(() => this.rebuildNow());
    this.chain = run.catch((err: unknown) =>
      this.opts.logger.error({ err }, 'bundle build failed'),
    );
    return run;
  }

  async start(): Promise<void> {
    await this.rebuild();
  }

  async stop(): Promise<void> {
    this.close();
    await this.chain;
  }

  onDesiredStateChange(): void {
    void this.rebuild();
  }

  buildErrors(): BuildError[] {
    return [...this.errors.values()];
  }

  /**
   * The edge's newest bundle once its hash differs from `knownHash`, or undefined when
   * `timeoutMs` passes (or the builder closes) first.
   */
  async waitForChange(
    edge: string,
    knownHash: string | undefined,
    timeoutMs: number,
  ): Promise<StoredBundle | undefined> {
    const current = await this.opts.store.latestBundle(edge);
    if (current && current.hash !== knownHash) return current;
    if (timeoutMs <= 0 || this.closed) return undefined;
    return new Promise((resolve) => {
      const done = (bundle: StoredBundle | undefined) => {
        clearTimeout(timer);
        this.changed.off(edge, onChange);
        this.changed.off('close', onClose);
        resolve(bundle);
      };
      const onChange = (b: StoredBundle) => {
        if (b.hash !== knownHash) done(b);
      };
      const onClose = () => done(undefined);
      const timer = setTimeout(() => done(undefined), timeoutMs);
      this.changed.on(edge, onChange);
      this.changed.once('close', onClose);
    });
  }

  close(): void {
    this.closed = true;
    this.changed.emit('close');
  }

  private async rebuildNow(): Promise<void> {
    const { spec, revision } = await this.opts.store.readState();
    const certs = new Map((await this.opts.store.listCertificates()).map((c) => [c.domain, c]));
    let published = false;
    for (const edge of spec.edges) {
      const plan = compileEdgePlan(spec, edge.name);
      const previous = await this.opts.store.latestBundle(edge.name);
      const meta = { edge: edge.name, proxy: edge.proxy, probe: { url: probeUrl(edge) } };
      // The certificates of the sites this edge serves, and only those: chain 0644, key 0600.
      const certificates = plan.certificates.map((c) => c.domain).filter((d) => certs.has(d));
      const certFiles: SourceFile[] = [];
      for (const domain of certificates) {
        const keyPem = await this.opts.store.certificateKey(domain);
        const chain = certs.get(domain)?.chain_pem;
        if (keyPem === undefined || chain === undefined) continue;
        const paths = certificatePaths(domain);
        certFiles.push({ path: paths.certificate, content: chain });
        certFiles.push({ path: paths.key, content: keyPem, secret: true });
      }
      // OCSP responses for nginx to staple (certs/stapler.ts keeps them current): only one
      // about the certificate in this bundle. Public, and nginx -t reads them.
      const staples: string[] = [];
      const stapleFiles: SourceFile[] = [];
      if (edge.proxy === 'nginx')
        for (const domain of certificates) {
          const staple = parseOcspStaple(await this.opts.store.getSetting(ocspSettingKey(domain)));
          if (staple === undefined || staple.serial !== certs.get(domain)?.serial.toUpperCase())
            continue;
          staples.push(domain);
          stapleFiles.push({
            path: ocspStaplePath(domain),
            content: Buffer.from(staple.der, 'base64'),
          });
        }
      const renderer = rendererFor(edge.proxy);
      const rendered = (release: number) =>
        renderer.render(plan, {
          release,
          certificates,
          staples,
          ...(this.opts.acmeChallengeUrl !== undefined
            ? { acmeChallengeUrl: this.opts.acmeChallengeUrl }
            : {}),
        });
      const render = (release: number): SourceFile[] => [
        ...rendered(release),
        ...stapleFiles,
        ...certFiles,
      ];
      let key: string;
      try {
        key = contentKey({ ...meta, files: render(0) });
      } catch (err) {
        if (!(err instanceof RenderError)) throw err;
        await this.reject(edge.name, revision, err.message);
        continue;
      }
      if (previous?.content_key === key) {
        this.errors.delete(edge.name);
        continue;
      }
      const release = (previous?.release ?? 0) + 1;
      // Rendered once more, with its release number (it is in the text: X-Outpost-Release);
      // the checks below reuse this rendering rather than rendering again.
      const releaseFiles = rendered(release);
      const files: SourceFile[] = [...releaseFiles, ...stapleFiles, ...certFiles];
      if (this.opts.nginx !== undefined && edge.proxy === 'nginx') {
        // Checked with throwaway certificates: private keys are not written to a temp dir.
        const check = await checkNginxConfig([...releaseFiles, ...stapleFiles], {
          nginx: this.opts.nginx,
          release,
          edgeName: edge.name,
          certificates,
          timeoutMs: this.opts.nginxCheckTimeoutMs ?? checkTimeoutFor(releaseFiles),
        });
        this.opts.logger.info(
          { edge: edge.name, release, ms: Math.round(check.ms) },
          'nginx -t of the rendering',
        );
        if (!check.ok) {
          await this.reject(
            edge.name,
            revision,
            check.timedOut
              ? `nginx -t did not finish within ${check.timeoutMs / 1000} s (a timeout, not a refusal; raise --nginx-check-timeout): ${check.output.trim()}`
              : `nginx rejected the rendered configuration: ${check.output.trim()}`,
          );
          continue;
        }
      }
      if (this.opts.caddy !== undefined && edge.proxy === 'caddy') {
        const check = await checkCaddyConfig(releaseFiles, {
          caddy: this.opts.caddy,
          certificates,
        });
        if (!check.ok) {
          await this.reject(
            edge.name,
            revision,
            `caddy rejected the rendered configuration: ${check.output.trim()}`,
          );
          continue;
        }
      }
      this.errors.delete(edge.name);
      const signed = signManifest(
        buildManifest({ ...meta, release, revision, files }),
        this.opts.signer.privateKeyPem,
      );
      const stored = await this.opts.store.saveBundle({
        edge: edge.name,
        release,
        revision,
        content_key: key,
        hash: signed.hash,
        body: JSON.stringify(signed),
      });
      this.opts.logger.info({ edge: edge.name, release, revision }, 'bundle published');
      this.seen.set(edge.name, stored.hash);
      this.changed.emit(edge.name, stored);
      published = true;
    }
    if (published) this.opts.onPublished?.();
  }

  private async reject(edge: string, revision: number, message: string): Promise<void> {
    if (this.errors.get(edge)?.message !== message) {
      this.opts.logger.warn({ edge, revision }, 'bundle not published: the rendering was refused');
      await this.opts.store.appendEvent({
        actor: 'system',
        action: 'bundle.rejected',
        subject: edge,
        detail: { revision, error: message },
      });
    }
    this.errors.set(edge, { edge, revision, message, at: new Date().toISOString() });
  }
}

/**
 * The default patience of the control plane's `nginx -t`: 20 s plus 10 s per MiB of rendered
 * text (3,000 sites: ~16 s of CPU on the measuring machine, bench:scale), so a large edge is
 * not refused for its size; a shared, loaded machine stretches the wall time several-fold.
 */
export function checkTimeoutFor(files: readonly { content: string | Buffer }[]): number {
  const bytes = files.reduce((sum, f) => sum + Buffer.byteLength(f.content), 0);
  return 20_000 + Math.ceil((bytes / (1024 * 1024)) * 10_000);
}

/** Where the agent checks the release after a reload: the edge's own HTTP listener. */
export function probeUrl(edge: Edge): string {
  const address = edge.listen.addresses[0] ?? '127.0.0.1';
  const host = address.includes(':') ? `[${address}]` : address;
  return `http://${host}:${edge.listen.http}/`;
}

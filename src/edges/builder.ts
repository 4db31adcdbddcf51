// Builds each edge's release bundle whenever the desired state changes: compile the edge's
// plan, render it, and publish a new signed release only when what the edge serves changed.
// Long-polling edges are woken the moment their bundle changes.
//
// Incremental and content-addressed (issue 14): a site is planned once for every edge (unless
// a modifier selects edges) and, on nginx edges, rendered once into its own file
// (`renderNginxSite`, which names nothing of the edge) whatever number of edges serve it; the
// renderings are kept between builds, keyed by what they depend on (the site, the HTTPS port,
// its certificate and staple), so a one-site change renders one site. An edge's per-site files
// are one file list (a blob named by its hash, shared by the edges that serve the same sites);
// its release is a signed manifest of its own few files and that list. Contents are stored
// once by hash (release_files) and swept when no kept release names them. The work yields to
// the event loop every few milliseconds, so admin calls and long-polls are served during a
// large build.
//
// Off the request path (issue 14): with `remote` (edges/build-worker.ts), the same builder
// runs in a worker thread with its own store connection, and this one (on the request
// thread) only hands out what it stores: `rebuild` asks the worker to build, the worker says
// which edges got new bundles as it saves them (`receive`: the long-polls wake), and answers
// with its refusals and stats. Changes that arrive during a build make one more build after it.
import { EventEmitter } from 'node:events';
import { coded, englishOf } from '../spec/messages.js';
import type { FastifyBaseLogger } from 'fastify';
import {
  buildManifest,
  contentKey,
  fileListBlob,
  fileListChunks,
  FileList,
  hashFile,
  signManifest,
  SignedBundle,
  type BundleFile,
  type HashedFile,
  type SourceFile,
} from '../bundle/index.js';
import {
  compileEdgePlan,
  planSite,
  selectorMatch,
  siteVariesByEdge,
  type EdgePlan,
  type PlannedSite,
} from '../compile/index.js';
import { checkCaddyConfig } from '../proxy-check/caddy-check.js';
import { RenderError } from '../render/escape.js';
import { checkNginxConfig } from '../proxy-check/nginx-check.js';
import {
  CHECK_EDGE,
  CHECK_RELEASE,
  NginxCheckCache,
  nginxCheckKey,
} from '../proxy-check/check-cache.js';
import { renderNginxMain } from '../proxy-check/nginx-main.js';
import {
  certificatePaths,
  nginxSiteOptions,
  ocspStaplePath,
  renderNginxEdge,
  renderNginxSite,
  type NginxSiteNeeds,
} from '../render/index.js';
import { rendererFor } from '../render/renderer.js';
import { GEOIP_ASN_PATH, GEOIP_COUNTRY_PATH } from '../bundle/layout.js';
import type { GeoipDatabases } from '../render/nginx-http.js';
import { ocspSettingKey, parseOcspStaple, type Edge, type Site } from '../spec/index.js';
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
  /** Build without yielding to the event loop (bench:control-plane's "before" column). */
  inline?: boolean;
  /** The client-geography databases delivered to edges whose sites need them. */
  geoip?: GeoipSources;
  /** Called with the bundles a build saved, as it saves them (the build worker posts them). */
  onSaved?: (saved: PublishedBundle[]) => void;
  /**
   * Builds elsewhere (the build worker, edges/build-worker.ts): given how to hand out the
   * bundles it saves, the runner this builder asks for each build instead of building here.
   */
  remote?: (receive: (saved: PublishedBundle[]) => void) => RemoteBuilds;
}

/**
 * A bundle just saved, as the long-polls need it (issue 14): the signed body as stored (sent
 * as it is, never parsed again), and the hashes its manifest names (`served`, what the file
 * route may hand this edge), so that the request thread does not parse 1,000 manifests.
 */
export interface PublishedBundle {
  edge: string;
  release: number;
  hash: string;
  body: string;
  served: { files: string[]; lists: string[] };
}

/** A build's saved bundles are published in batches (issue 14): every this many edges… */
export const PUBLISH_EVERY_EDGES = 50;
/** …or once the oldest unsaved bundle waited this long, whichever comes first. */
export const PUBLISH_EVERY_MS = 100;

/** What a build elsewhere answers: the edges refused (as of that build) and its stats. */
export interface BuildReport {
  errors: BuildError[];
  stats: BuildStats | undefined;
}

/** Where builds run when not here (edges/build-worker.ts: a worker thread). */
export interface RemoteBuilds {
  /** One build of the stored state; rejects when it failed (or the worker died). */
  build(): Promise<BuildReport>;
  /** Forget what was derived and stored (another control plane built meanwhile). */
  forget(): void;
  stop(): Promise<void>;
}

// ---- issue 16 (country data on the edge): the databases in the releases that need them ----
/** A client-geography database as the control plane read it (dns/geoip/edge-database.ts). */
export interface GeoipFile {
  content: Buffer;
  sha256: string;
  /** Its records carry `autonomous_system_number`. */
  hasAsn: boolean;
}

/**
 * Where the databases come from: each reads its file (again when it changed) or throws an
 * Error whose message names the setting; absent when the setting is not given.
 */
export interface GeoipSources {
  /** `--geoip-database`: the GeoIP2-layout country database (`outpost geoip build`). */
  country?: () => Promise<GeoipFile>;
  /** `--geoip-asn-database`: a database with `autonomous_system_number`. */
  asn?: () => Promise<GeoipFile>;
}

/** What a group of sites gets of the databases: the release files and what they hold. */
interface GroupGeoip {
  files: HashedFile[];
  dbs: GeoipDatabases;
}

function geoipHashed(path: string, db: GeoipFile): HashedFile {
  return {
    entry: { path, mode: 0o644, sha256: db.sha256, size: db.content.length },
    content: db.content,
  };
}

/** Up to three domains, for messages. */
function someDomains(domains: readonly string[]): string {
  const shown = domains.slice(0, 3).join(', ');
  return domains.length > 3 ? `${shown} and ${domains.length - 3} more` : shown;
}

/**
 * The databases a group of sites needs, or the reason the release cannot have them (naming
 * the setting to give). `read` reads each configured database once per build.
 */
async function geoipFor(
  need: { country: string[]; asn: string[] },
  read: (which: 'country' | 'asn') => Promise<GeoipFile | undefined>,
): Promise<GroupGeoip | string> {
  const files: HashedFile[] = [];
  let country: GeoipFile | undefined;
  let asn: GeoipDatabases['asn'];
  try {
    if (need.country.length > 0) {
      country = await read('country');
      if (country === undefined)
        return `sites of this edge match on the client's country or continent (${someDomains(need.country)}), but this control plane has no country database: start outpost serve with --geoip-database PATH (the file outpost geoip build writes; docs/protect.md)`;
    }
    if (need.asn.length > 0) {
      const own = await read('asn');
      if (own !== undefined) {
        files.push(geoipHashed(GEOIP_ASN_PATH, own));
        asn = 'asn';
      } else {
        country ??= await read('country');
        if (country?.hasAsn !== true)
          return `sites of this edge match on the client's ASN (${someDomains(need.asn)}), but this control plane has no database with ASNs${country !== undefined ? ' (the --geoip-database file has no autonomous_system_number)' : ''}: start outpost serve with --geoip-asn-database PATH (an MMDB with autonomous_system_number; docs/protect.md)`;
        asn = 'country';
      }
    }
  } catch (err) {
    return (err as Error).message;
  }
  if (country !== undefined) files.push(geoipHashed(GEOIP_COUNTRY_PATH, country));
  return { files, dbs: { country: country !== undefined, asn } };
}
// ---- end country data ----

/** Why an edge's newest rendering was not published, if it was not. */
export interface BuildError {
  edge: string;
  revision: number;
  message: string;
  at: string;
}

/** What one build did (bench:scale and the log read it). */
export interface BuildStats {
  edges: number;
  published: number;
  sitesRendered: number;
  filesStored: number;
  filesSwept: number;
  /** nginx -t runs, and checks answered by a kept verdict of the same rendering (issue 14). */
  checksRun: number;
  checksReused: number;
  ms: number;
}

/** A site's rendering, kept between builds. */
interface Fragment {
  id: number;
  files: HashedFile[];
  needs: NginxSiteNeeds;
  stored: boolean;
  build: number;
}

/** The sites part of every edge that selects the same sites (one build). */
interface SiteGroup {
  sites: PlannedSite[];
  /** The named IP lists its sites use (nginx/lists.conf is an edge file). */
  ipLists: EdgePlan['ipLists'];
  planCertificates: EdgePlan['certificates'];
  certificates: string[];
  certEntries: { id: number; files: HashedFile[]; known: { stored: boolean } }[];
  stapled: string[];
  stapleFiles: HashedFile[];
  fragments: Fragment[];
  needs: NginxSiteNeeds[];
  /** The file lists of the sites' files, certificates and staples (nginx edges). */
  list: ListSet | undefined;
  /** Whether this build has stored the group's new contents (once for all its edges). */
  stored: boolean;
  /** A site that cannot be rendered (RenderError): every edge of the group is refused. */
  error: string | undefined;
  /** The client-geography databases its sites need (issue 16). */
  geoip: GroupGeoip | undefined;
}

/** A file list blob, kept between builds. */
interface ListChunk {
  blob: HashedFile & { entries: BundleFile[] };
  stored: boolean;
  build: number;
}

/** The file lists of a group's sites part (fileListChunks), kept between builds. */
interface ListSet {
  chunks: ListChunk[];
  build: number;
}

/** The files an edge's latest release names: its own, and its lists' (by list hash). */
interface Served {
  hash: string;
  files: Set<string>;
  lists: string[];
}

const YIELD_EVERY_MS = 8;

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
  private readonly remote: RemoteBuilds | undefined;
  /** The build waiting for the running one (every change meanwhile joins it). */
  private queued: Promise<void> | undefined;

  constructor(private readonly opts: BundleBuilderOptions) {
    this.changed.setMaxListeners(0);
    this.remote = opts.remote?.((saved) => this.receive(saved));
  }

  /** Hands bundles just saved (here or by the build worker) to the long-polls of their edges. */
  receive(saved: readonly PublishedBundle[]): void {
    for (const stored of saved) {
      this.seen.set(stored.edge, stored.hash);
      this.served.set(stored.edge, {
        hash: stored.hash,
        files: new Set(stored.served.files),
        lists: stored.served.lists,
      });
      this.changed.emit(stored.edge, stored);
    }
  }

  /** Builds (leader, or alone) or only serves stored bundles (another control plane leads). */
  setBuilding(building: boolean): void {
    // Another control plane built (and swept) meanwhile: what this one remembers of stored
    // contents may be gone, so it forgets it and stores again what it names.
    if (building && !this.building) this.forget();
    this.building = building;
  }

  /** Forgets what was derived and stored (here, and in the build worker). */
  forget(): void {
    this.remote?.forget();
    for (const m of [
      this.plans,
      this.variedPlans,
      this.fragments,
      this.lists,
      this.chunks,
      this.certFiles,
    ])
      m.clear();
    this.storedHashes.clear();
  }

  /** Wakes the long-polls of edges whose newest stored bundle is not the one they were given. */
  async refreshFromStore(): Promise<void> {
    for (const bundle of await this.opts.store.latestBundles()) {
      if (this.seen.get(bundle.edge) === bundle.hash) continue;
      this.seen.set(bundle.edge, bundle.hash);
      this.changed.emit(bundle.edge, bundle);
    }
  }

  /**
   * Rebuilds every edge's bundle from the stored state; builds are serialised, and calls
   * while one runs share the one build after it (it reads the state they wrote).
   */
  rebuild(): Promise<void> {
    if (!this.building) return this.chain;
    if (this.queued !== undefined) return this.queued;
    const run = this.chain.then(async () => {
      this.queued = undefined;
      try {
        await this.rebuildNow();
      } catch (err) {
        await this.failed(err);
        throw err;
      }
    });
    this.queued = run;
    this.chain = run.catch(() => undefined);
    return run;
  }

  /**
   * A build that failed (a store error, the build worker dying): logged with the error, and
   * every edge shows it as its build error until a build succeeds; edges keep their releases.
   */
  private async failed(err: unknown): Promise<void> {
    if (this.closed) {
      // Stopped with the control plane (stop() above): not a failure anyone must act on.
      this.opts.logger.info({ reason: (err as Error).message }, 'the running build was stopped');
      return;
    }
    this.opts.logger.error({ err }, 'bundle build failed');
    const message = englishOf(coded('build_failed', { error: (err as Error).message }));
    const at = new Date().toISOString();
    try {
      const { spec, revision } = await this.opts.store.readSharedState();
      for (const edge of spec.edges)
        this.errors.set(edge.name, { edge: edge.name, revision, message, at });
    } catch (readErr) {
      this.opts.logger.warn({ err: readErr }, 'reading the state after a failed build failed');
    }
  }

  /** One build here, now (the build worker runs it; others call `rebuild`). */
  buildNow(): Promise<void> {
    return this.rebuildNow();
  }

  /** The refusals as of the last build, and its stats (what the build worker answers). */
  report(): BuildReport {
    return { errors: this.buildErrors(), stats: this.stats };
  }

  async start(): Promise<void> {
    // In the build worker, the first build does not hold the start: the worker loads its
    // modules and opens its store meanwhile, and long-polls are answered when it publishes.
    if (this.remote !== undefined) {
      this.rebuild().catch(() => undefined);
      return;
    }
    await this.rebuild();
  }

  async stop(): Promise<void> {
    this.close();
    // The build worker stops first, then the running build is awaited: a worker that hangs
    // would otherwise hold the shutdown until its watchdog (10 minutes by default). What it
    // had not saved is rolled back with its connection and built at the next start.
    await this.remote?.stop();
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
  ): Promise<EdgeBundle | undefined> {
    const current = await this.opts.store.latestBundle(edge);
    if (current && current.hash !== knownHash) return current;
    if (timeoutMs <= 0 || this.closed) return undefined;
    return new Promise((resolve) => {
      const done = (bundle: EdgeBundle | undefined) => {
        clearTimeout(timer);
        this.changed.off(edge, onChange);
        this.changed.off('close', onClose);
        resolve(bundle);
      };
      const onChange = (b: EdgeBundle) => {
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

  /** What the last build did. */
  lastBuild(): BuildStats | undefined {
    return this.stats;
  }

  /**
   * True when `hash` is the content of a file of `edge`'s latest release (its own files, its
   * lists, and their entries): the only contents the edge API hands that edge.
   */
  async serves(edge: string, hashes: readonly string[]): Promise<boolean> {
    const latest = await this.opts.store.latestBundle(edge);
    if (latest === undefined) return false;
    let served = this.served.get(edge);
    if (served?.hash !== latest.hash) {
      served = servedOf(latest);
      this.served.set(edge, served);
    }
    const missing = served.lists.filter((l) => !this.listEntries.has(l));
    if (missing.length > 0) {
      const blobs = await this.opts.store.releaseFiles(missing);
      for (const [sha, content] of blobs) {
        const parsed = FileList.safeParse(JSON.parse(content.toString('utf8')));
        if (parsed.success) this.listEntries.set(sha, new Set(parsed.data.map((e) => e.sha256)));
      }
    }
    const { files, lists } = served;
    return hashes.every(
      (h) =>
        files.has(h) || lists.includes(h) || lists.some((l) => this.listEntries.get(l)?.has(h)),
    );
  }

  private stats: BuildStats | undefined;
  /** nginx -t verdicts by what the check read, kept across builds (issue 14). */
  private readonly checks = new NginxCheckCache();
  private buildNumber = 0;
  private nextId = 1;
  /**
   * What the builder derived from a site object: its JSON key, its selector list's key, and
   * whether a modifier plans it per edge. The store hands out the same (frozen) object for an
   * unchanged entry from one revision to the next (readSharedState), so an unchanged site
   * costs a lookup here, not a JSON.stringify.
   */
  private readonly siteFacts = new WeakMap<
    Site,
    { key: string; selectors: string; varies: boolean }
  >();
  /** Planned sites by the site's JSON (sites that no modifier plans per edge). */
  private readonly plans = new Map<string, { planned: PlannedSite; id: number; build: number }>();
  /** Ids of per-edge plans, by their JSON. */
  private readonly variedPlans = new Map<string, { id: number; build: number }>();
  private readonly planIds = new WeakMap<PlannedSite, number>();
  private readonly fragments = new Map<string, Fragment>();
  /** A group's file lists by the ids of what they hold. */
  private readonly lists = new Map<string, ListSet>();
  /** File list blobs by the paths and hashes they hold. */
  private readonly chunks = new Map<string, ListChunk>();
  /** Contents this builder stored and no sweep has removed since (not stored again). */
  private readonly storedHashes = new Set<string>();
  /** Entry hashes of file lists (the file route's check). */
  private readonly listEntries = new Map<string, Set<string>>();
  private readonly served = new Map<string, Served>();
  /** Certificate and key files by domain, serial and issue time. */
  private readonly certFiles = new Map<
    string,
    { files: HashedFile[]; id: number; stored: boolean; build: number }
  >();

  private async rebuildNow(): Promise<void> {
    if (this.remote !== undefined) {
      const { errors, stats } = await this.remote.build();
      this.errors.clear();
      for (const e of errors) this.errors.set(e.edge, e);
      this.stats = stats;
      if ((stats?.published ?? 0) > 0) this.opts.onPublished?.();
      return;
    }
    const started = performance.now();
    const build = ++this.buildNumber;
    const { store, logger } = this.opts;
    let lastYield = performance.now();
    const pause = async () => {
      if (this.opts.inline === true || performance.now() - lastYield < YIELD_EVERY_MS) return;
      await new Promise<void>((resolve) => setImmediate(resolve));
      lastYield = performance.now();
    };
    const stats: BuildStats = {
      edges: 0,
      published: 0,
      sitesRendered: 0,
      filesStored: 0,
      filesSwept: 0,
      checksRun: 0,
      checksReused: 0,
      ms: 0,
    };
    const { spec, revision } = await store.readSharedState();
    const certs = new Map((await store.listCertificates()).map((c) => [c.domain, c]));

    // Sites planned once for all edges, unless a modifier selects edges.
    const factsOf = (site: Site) => {
      let facts = this.siteFacts.get(site);
      if (facts === undefined) {
        facts = {
          key: JSON.stringify(site),
          selectors: JSON.stringify(site.edges),
          varies: siteVariesByEdge(site),
        };
        this.siteFacts.set(site, facts);
      }
      return facts;
    };
    const planner = (site: Site, edge: Edge): PlannedSite => {
      const facts = factsOf(site);
      if (facts.varies) {
        const planned = planSite(site, edge);
        const key = JSON.stringify(planned);
        const known = this.variedPlans.get(key) ?? { id: this.nextId++, build };
        known.build = build;
        this.variedPlans.set(key, known);
        this.planIds.set(planned, known.id);
        return planned;
      }
      const key = facts.key;
      let known = this.plans.get(key);
      if (known === undefined) {
        known = { planned: planSite(site, edge), id: this.nextId++, build };
        this.plans.set(key, known);
        this.planIds.set(known.planned, known.id);
      }
      known.build = build;
      return known.planned;
    };

    // Per build: the certificate files and OCSP staples of each domain, read once.
    const certOf = async (domain: string) => {
      const cert = certs.get(domain);
      if (cert === undefined) return undefined;
      const key = `${domain}\n${cert.serial}\n${cert.created_at}\n${cert.chain_pem.length}`;
      let known = this.certFiles.get(key);
      if (known === undefined) {
        const keyPem = await store.certificateKey(domain);
        if (keyPem === undefined) return undefined;
        const paths = certificatePaths(domain);
        known = {
          files: [
            hashFile({ path: paths.certificate, content: cert.chain_pem }),
            hashFile({ path: paths.key, content: keyPem, secret: true }),
          ],
          id: this.nextId++,
          stored: false,
          build,
        };
        this.certFiles.set(key, known);
      }
      known.build = build;
      return known;
    };
    const staples = new Map<string, HashedFile | undefined>();
    const stapleOf = async (domain: string): Promise<HashedFile | undefined> => {
      if (staples.has(domain)) return staples.get(domain);
      const staple = parseOcspStaple(await store.getSetting(ocspSettingKey(domain)));
      const file =
        staple === undefined || staple.serial !== certs.get(domain)?.serial.toUpperCase()
          ? undefined
          : hashFile({ path: ocspStaplePath(domain), content: Buffer.from(staple.der, 'base64') });
      staples.set(domain, file);
      return file;
    };
    // The client-geography databases, each read at most once per build (and only if needed).
    const geoipReads = new Map<'country' | 'asn', Promise<GeoipFile | undefined>>();
    const readGeoip = (which: 'country' | 'asn'): Promise<GeoipFile | undefined> => {
      let read = geoipReads.get(which);
      if (read === undefined) {
        read = this.opts.geoip?.[which]?.() ?? Promise.resolve(undefined);
        geoipReads.set(which, read);
      }
      return read;
    };
    const acme =
      this.opts.acmeChallengeUrl !== undefined
        ? { acmeChallengeUrl: this.opts.acmeChallengeUrl }
        : {};

    // Edges that select the same sites (the same answer to every distinct selector list of the
    // spec, the same plan of each site a modifier plans per edge, the same proxy, pause and
    // HTTPS port) serve the same site files: their sites part is worked out once per build.
    const selectorLists = new Map<string, Site['edges']>();
    const varying: Site[] = [];
    for (const site of spec.sites) {
      const facts = factsOf(site);
      selectorLists.set(facts.selectors, site.edges);
      if (facts.varies) varying.push(site);
    }
    const signatureOf = (edge: Edge): string =>
      [
        edge.proxy,
        edge.paused ? 1 : 0,
        edge.listen.https,
        [...selectorLists.values()].map((l) => (selectorMatch(l, edge) ? 1 : 0)).join(''),
        ...varying.map((site) =>
          selectorMatch(site.edges, edge) ? this.planIds.get(planner(site, edge)) : '-',
        ),
      ].join('|');
    const groups = new Map<string, SiteGroup>();
    const noSites = { ...spec, sites: [] };
    const groupFor = async (edge: Edge): Promise<SiteGroup> => {
      const signature = signatureOf(edge);
      const known = groups.get(signature);
      if (known !== undefined) return known;
      const full = compileEdgePlan(spec, edge.name, planner);
      // The certificates of the sites this edge serves, and only those: chain 0644, key 0600.
      const certificates: string[] = [];
      const certEntries: SiteGroup['certEntries'] = [];
      for (const c of full.certificates) {
        const cert = await certOf(c.domain);
        if (cert === undefined) continue;
        certificates.push(c.domain);
        certEntries.push({ id: cert.id, files: cert.files, known: cert });
      }
      // OCSP responses for nginx to staple (certs/stapler.ts keeps them current): only one
      // about the certificate in this bundle. Public, and nginx -t reads them.
      const stapled: string[] = [];
      const stapleFiles: HashedFile[] = [];
      if (edge.proxy === 'nginx')
        for (const domain of certificates) {
          const file = await stapleOf(domain);
          if (file === undefined) continue;
          stapled.push(domain);
          stapleFiles.push(file);
        }
      const group: SiteGroup = {
        sites: full.sites,
        ipLists: full.ipLists,
        planCertificates: full.certificates,
        certificates,
        certEntries,
        stapled,
        stapleFiles,
        fragments: [],
        needs: [],
        list: undefined,
        stored: false,
        error: undefined,
        geoip: undefined,
      };
      groups.set(signature, group);
      if (edge.proxy !== 'nginx') return group;
      try {
        const base = { release: 0, certificates, staples: stapled, ...acme };
        for (const site of full.sites) {
          await pause();
          const siteOpts = nginxSiteOptions(full, base, site);
          const planId = this.planIds.get(site);
          if (planId === undefined) throw new Error(`site ${site.domain} was not planned here`);
          const key = `${planId}|${siteOpts.httpsPort}|${siteOpts.certificate ? 1 : 0}|${siteOpts.staple ? 1 : 0}`;
          let fragment = this.fragments.get(key);
          if (fragment === undefined) {
            const r = renderNginxSite(site, siteOpts);
            stats.sitesRendered++;
            fragment = {
              id: this.nextId++,
              files: r.files.map((f) => hashFile(f)),
              needs: r.needs,
              stored: false,
              build,
            };
            this.fragments.set(key, fragment);
          }
          fragment.build = build;
          group.fragments.push(fragment);
        }
      } catch (err) {
        if (!(err instanceof RenderError)) throw err;
        group.error = err.message;
        return group;
      }
      // What edge.conf needs of the sites, as one entry (it only asks "any" and "which").
      const needs = group.fragments.map((f) => f.needs);
      group.needs = [
        {
          brotli: needs.some((n) => n.brotli),
          waf: needs.some((n) => n.waf),
          force: needs.some((n) => n.force),
          browserTtls: [...new Set(needs.flatMap((n) => n.browserTtls))],
          https: needs.some((n) => n.https),
          rateLimits: needs.some((n) => n.rateLimits),
          geoip: needs.some((n) => n.geoip),
          asn: needs.some((n) => n.asn),
        },
      ];
      const geoNeed = {
        country: group.sites.filter((_, k) => needs[k]?.geoip === true).map((x) => x.domain),
        asn: group.sites.filter((_, k) => needs[k]?.asn === true).map((x) => x.domain),
      };
      if (geoNeed.country.length > 0 || geoNeed.asn.length > 0) {
        const geoip = await geoipFor(geoNeed, readGeoip);
        if (typeof geoip === 'string') {
          group.error = geoip;
          return group;
        }
        group.geoip = geoip;
      }
      const listKey = [
        group.fragments.map((f) => f.id).join(','),
        certEntries.map((c) => c.id).join(','),
        stapleFiles.map((f) => f.entry.sha256).join(','),
      ].join(';');
      let list = this.lists.get(listKey);
      if (list === undefined) {
        const parts = fileListChunks([
          ...group.fragments.flatMap((f) => f.files.map((h) => h.entry)),
          ...certEntries.flatMap((c) => c.files.map((h) => h.entry)),
          ...stapleFiles.map((h) => h.entry),
        ]);
        list = { chunks: [], build };
        for (const entries of parts) {
          await pause();
          const chunkKey = entries.map((e) => `${e.path} ${e.mode} ${e.sha256}`).join('\n');
          let chunk = this.chunks.get(chunkKey);
          if (chunk === undefined) {
            chunk = { blob: fileListBlob(entries), stored: false, build };
            this.chunks.set(chunkKey, chunk);
            this.listEntries.set(
              chunk.blob.entry.sha256,
              new Set(chunk.blob.entries.map((e) => e.sha256)),
            );
          }
          list.chunks.push(chunk);
        }
        this.lists.set(listKey, list);
      }
      list.build = build;
      for (const chunk of list.chunks) chunk.build = build;
      group.list = list;
      return group;
    };

    // ---- issue 14: batched publishing. Signed bundles wait in `pending` and are saved (one
    // transaction per batch, after the contents they name) every PUBLISH_EVERY_EDGES edges or
    // once the oldest waited PUBLISH_EVERY_MS, so the first edges' long-polls wake while the
    // rest of the build runs, rather than all of them after its last edge.
    const pending: {
      bundle: Omit<StoredBundle, 'created_at'>;
      served: PublishedBundle['served'];
    }[] = [];
    let pendingSince = 0;
    const publish = async () => {
      if (pending.length === 0) return;
      const batch = pending.splice(0);
      const saved = await store.saveBundles(batch.map((p) => p.bundle));
      // saveBundles stores each bundle it is given, in order.
      const published: PublishedBundle[] = batch.map(({ bundle, served }) => ({
        edge: bundle.edge,
        release: bundle.release,
        hash: bundle.hash,
        body: bundle.body,
        served,
      }));
      for (const stored of saved) {
        stats.published++;
        logger.info(
          { edge: stored.edge, release: stored.release, revision: stored.revision },
          'bundle published',
        );
      }
      this.receive(published);
      this.opts.onSaved?.(published);
    };
    const queue = async (
      bundle: Omit<StoredBundle, 'created_at'>,
      served: PublishedBundle['served'],
    ) => {
      if (pending.length === 0) pendingSince = performance.now();
      pending.push({ bundle, served });
      if (
        pending.length >= PUBLISH_EVERY_EDGES ||
        performance.now() - pendingSince >= PUBLISH_EVERY_MS
      )
        await publish();
    };
    // ---- end batched publishing

    for (const edge of spec.edges) {
      stats.edges++;
      await pause();
      const group = await groupFor(edge);
      const plan = {
        ...compileEdgePlan(noSites, edge.name, planner),
        sites: group.sites,
        // The lists the sites name (a plan of no sites has none: lists.conf would be missing).
        ipLists: group.ipLists,
        certificates: group.planCertificates,
      };
      const previous = await store.latestBundle(edge.name);
      const meta = { edge: edge.name, proxy: edge.proxy, probe: { url: probeUrl(edge) } };
      const { certificates, certEntries, stapled, stapleFiles, list } = group;
      const siteFragments = group.fragments;
      if (group.error !== undefined) {
        await this.reject(edge.name, revision, group.error);
        continue;
      }
      const options = (release: number) => ({
        release,
        certificates,
        staples: stapled,
        ...acme,
        ...(group.geoip !== undefined ? { geoip: group.geoip.dbs } : {}),
      });
      const geoipFiles = group.geoip?.files ?? [];
      // What the release consists of: its own files (rendered per release number) and, on
      // nginx, one file list of the sites' files, certificates and staples.
      let ownFiles: (release: number) => HashedFile[];
      if (edge.proxy === 'nginx') {
        ownFiles = (release) => [
          ...renderNginxEdge(plan, options(release), group.needs).map((f) => hashFile(f)),
          ...geoipFiles,
        ];
      } else {
        const renderer = rendererFor(edge.proxy);
        const certFiles = certEntries.flatMap((c) => c.files);
        ownFiles = (release) => [
          ...renderer.render(plan, options(release)).map((f) => hashFile(f)),
          ...certFiles,
        ];
      }
      const lists = list !== undefined ? list.chunks.map((c) => c.blob.entry) : [];
      let key: string;
      try {
        key = contentKey({ ...meta, files: ownFiles(0).map((f) => f.entry), lists });
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
      // Rendered once more, with its release number (it is in edge.conf: X-Outpost-Release);
      // the checks below reuse this rendering rather than rendering again.
      const own = ownFiles(release);
      if (this.opts.nginx !== undefined && edge.proxy === 'nginx') {
        // ---- issue 14: one nginx -t per distinct checked rendering (proxy-check/check-cache.ts):
        // the edge's own files with a fixed name and release, keyed by every file nginx reads.
        // Checked with throwaway certificates: private keys are not written to a temp dir.
        const checkedOwn = [
          ...renderNginxEdge(
            { ...plan, edge: CHECK_EDGE },
            options(CHECK_RELEASE),
            group.needs,
          ).map((f) => hashFile(f)),
          ...geoipFiles,
        ];
        const checkedFiles = [
          ...checkedOwn,
          ...siteFragments.flatMap((f) => f.files),
          ...stapleFiles,
        ];
        const mainConf = renderNginxMain({ edgeName: CHECK_EDGE, workerProcesses: 1 });
        const nginx = this.opts.nginx;
        const checkKey = nginxCheckKey({
          nginx,
          mainConf,
          certificates,
          files: checkedFiles.map((f) => f.entry),
        });
        const { result: check, reused } = await this.checks.check(checkKey, build, async () => {
          // The releases waiting are saved before a check that runs (it takes a while); a kept
          // verdict answers at once, so those wait for their batch (w6-publish).
          await publish();
          const checked: SourceFile[] = checkedFiles.map((f) => ({
            path: f.entry.path,
            content: f.content,
          }));
          return checkNginxConfig(checked, {
            nginx,
            release: CHECK_RELEASE,
            mainConf,
            certificates,
            timeoutMs: this.opts.nginxCheckTimeoutMs ?? checkTimeoutFor(checked),
          });
        });
        if (reused) stats.checksReused++;
        else stats.checksRun++;
        // ---- end issue 14 (check cache)
        logger.info(
          { edge: edge.name, release, ms: Math.round(check.ms), reused },
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
        await publish();
        const check = await checkCaddyConfig(
          own.map((f) => ({ path: f.entry.path, content: f.content.toString('utf8') })),
          { caddy: this.opts.caddy, certificates },
        );
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

      // Contents first (once each: the group's new ones with its first edge), then the
      // manifests that name them, saved in batches (`queue`; flushed before a check, so that
      // a checked build publishes edge by edge).
      const blobs: HashedFile[] = [...own];
      const first = !group.stored;
      if (first) {
        blobs.push(...stapleFiles);
        for (const f of siteFragments) if (!f.stored) blobs.push(...f.files);
        for (const c of certEntries) if (!c.known.stored) blobs.push(...c.files);
        for (const c of list?.chunks ?? []) if (!c.stored) blobs.push(c.blob);
      }
      const fresh = blobs.filter((b) => !this.storedHashes.has(b.entry.sha256));
      await store.putReleaseFiles(
        fresh.map((b) => ({ sha256: b.entry.sha256, content: b.content })),
      );
      for (const b of fresh) this.storedHashes.add(b.entry.sha256);
      stats.filesStored += fresh.length;
      if (first) {
        group.stored = true;
        for (const f of siteFragments) f.stored = true;
        for (const c of certEntries) c.known.stored = true;
        for (const c of list?.chunks ?? []) c.stored = true;
      }

      const signed = signManifest(
        buildManifest({ ...meta, release, revision, files: own.map((f) => f.entry), lists }),
        this.opts.signer.privateKeyPem,
      );
      await queue(
        {
          edge: edge.name,
          release,
          revision,
          content_key: key,
          hash: signed.hash,
          body: JSON.stringify(signed),
        },
        { files: own.map((f) => f.entry.sha256), lists: lists.map((l) => l.sha256) },
      );
    }
    await publish();
    if (stats.published > 0) this.opts.onPublished?.();

    // Forget renderings no edge uses any more; sweep contents no kept release names.
    for (const m of [
      this.plans,
      this.variedPlans,
      this.fragments,
      this.lists,
      this.chunks,
      this.certFiles,
    ])
      for (const [k, v] of m as Map<string, { build: number }>) if (v.build !== build) m.delete(k);
    if (stats.published > 0) stats.filesSwept = await this.sweep();
    stats.ms = performance.now() - started;
    this.stats = stats;
    logger.info(stats, 'bundles built');
  }

  /** Deletes stored contents that no kept release (of any edge) names. */
  private async sweep(): Promise<number> {
    const keep = new Set<string>();
    const lists = new Set<string>();
    for (const b of await this.opts.store.keptBundles()) {
      const s = servedOf(b);
      for (const h of s.files) keep.add(h);
      for (const l of s.lists) lists.add(l);
    }
    const unknown = [...lists].filter((l) => !this.listEntries.has(l));
    for (const [sha, content] of await this.opts.store.releaseFiles(unknown)) {
      const parsed = FileList.safeParse(JSON.parse(content.toString('utf8')));
      if (parsed.success) this.listEntries.set(sha, new Set(parsed.data.map((e) => e.sha256)));
    }
    for (const l of lists) {
      keep.add(l);
      const entries = this.listEntries.get(l);
      // A list that cannot be read keeps everything: never sweep on a guess.
      if (entries === undefined) return 0;
      for (const h of entries) keep.add(h);
    }
    for (const l of this.listEntries.keys()) if (!lists.has(l)) this.listEntries.delete(l);
    for (const h of this.storedHashes) if (!keep.has(h)) this.storedHashes.delete(h);
    return this.opts.store.pruneReleaseFiles(keep);
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

/** What a long-poll hands out: a bundle just published, or one read from the store. */
export type EdgeBundle = Pick<StoredBundle, 'edge' | 'release' | 'hash' | 'body'>;

/** The hashes a stored release names directly: its own files and its file lists. */
function servedOf(bundle: StoredBundle): Served {
  const signed = SignedBundle.parse(JSON.parse(bundle.body));
  const manifest = JSON.parse(signed.manifest) as {
    files: { sha256: string }[];
    lists: { sha256: string }[];
  };
  return {
    hash: bundle.hash,
    files: new Set(manifest.files.map((f) => f.sha256)),
    lists: manifest.lists.map((l) => l.sha256),
  };
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

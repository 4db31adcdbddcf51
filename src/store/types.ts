// The store's contract. Callers see only this interface; SQLite is the default implementation
// and a PostgreSQL dialect can be added behind the same interface without touching callers.
import { OutpostError } from '../http/errors.js';
import type {
  AlertKind,
  ChannelSettings,
  Grant,
  PurgeJob,
  PurgeResult,
  Severity,
  Spec,
  SpecDiff,
  TrackedAlert,
  EdgePoint,
  Resolution,
  SitePoint,
} from '../spec/index.js';

export interface StoredState {
  spec: Spec;
  /** Increases by one on every change of desired state. 0 for an empty store. */
  revision: number;
}

export interface AuditEvent {
  id: number;
  /** ISO 8601 timestamp. */
  at: string;
  /** Who did it: `admin`, `cli`, `edge:NAME`, `system`. */
  actor: string;
  /** What happened, dotted: `spec.apply`, `edge.create`, `edge.token.rotate`, … */
  action: string;
  /** What it happened to: a site domain, an edge name, or empty. */
  subject: string;
  /** Free-form JSON details. Never secrets. */
  detail: Record<string, unknown>;
  /** The client address of the request that did it; null for the system's own events. */
  address: string | null;
}

export type NewAuditEvent = Omit<AuditEvent, 'id' | 'at' | 'address'> & { address?: string | null };

export interface WriteStateOptions {
  /** Fail with RevisionConflictError unless the stored revision is still this one. */
  expectRevision?: number;
  /** Token hashes for edges that `next` creates (by edge name). */
  edgeTokenHashes?: Record<string, string>;
  /**
   * Runs inside the transaction after every row is written, before the commit. Only the test
   * hook `OUTPOST_TEST_HOLD_STATE_WRITE_MS` uses it (config/), to kill a control plane there.
   */
  beforeCommit?: () => Promise<void>;
  /**
   * `next` is what parseSpec returned, unmodified, and `diff` is diffSpecs(the state at
   * `expectRevision`, next) (DesiredState): the write neither parses nor diffs it again
   * (issue 14: ~2.5 s and ~0.5 s at 10,000 sites). Ignored without `expectRevision`.
   */
  checked?: { diff: SpecDiff };
}

export interface WriteStateResult {
  revision: number;
  /**
   * False when `next` equals the stored state: the revision is unchanged. A new order of edges
   * or sites alone is not a change: it is stored (with an event), the revision stays.
   */
  changed: boolean;
}

/** A release bundle as stored: the signed body is opaque to the store. */
export interface StoredBundle {
  edge: string;
  /** Monotonic per edge. */
  release: number;
  /** The desired-state revision it was built from. */
  revision: number;
  /** Hash of what the bundle serves, release number aside: equal keys need no new release. */
  content_key: string;
  /** SHA-256 of the signed manifest. */
  hash: string;
  /** The signed manifest as sent to the edge (JSON, without contents: see release files). */
  body: string;
  created_at: string;
}

/** The last report of an edge's agent, as JSON, and when it arrived. */
export interface StoredEdgeReport {
  edge: string;
  report: Record<string, unknown>;
  last_seen: string;
}

/** A site's certificate as stored, without its private key (see `certificateKey`). */
export interface StoredCertificate {
  /** The site's domain: one certificate per site. */
  domain: string;
  source: 'acme' | 'upload';
  /** Subject names covered (domain first). */
  names: string[];
  /** PEM chain: leaf first, then intermediates. Public. */
  chain_pem: string;
  issuer: string;
  serial: string;
  not_before: string;
  not_after: string;
  created_at: string;
}

/** Renewal state of a site's certificate. */
export interface CertificateRenewal {
  domain: string;
  /** Failed attempts in a row (0 after a success). */
  failures: number;
  last_attempt_at: string | null;
  last_error: string | null;
  /** No attempt before this time (backoff or the CA's Retry-After); null: when due. */
  next_attempt_at: string | null;
}

/** A pending ACME HTTP-01 answer. */
export interface AcmeChallenge {
  token: string;
  domain: string;
  key_authorization: string;
  expires_at: string;
}

/** A purge as stored, with how far each edge that must run it got. */
export interface StoredPurge {
  job: PurgeJob;
  edges: {
    edge: string;
    state: 'pending' | 'done' | 'failed';
    removed: number;
    error: string | null;
    updated_at: string;
  }[];
}

/** The desired state (store/state.ts). */
export interface StateQueries {
  /** The whole desired state, entries in the order they were given, and its revision. */
  readState(): Promise<StoredState>;
  /**
   * The same state, not copied: deep-frozen and shared by every caller until the next change
   * (a mutation throws). Entries a change left alone are the same objects as before it, so a
   * reader can key its own derived work on them. For readers that only read (the bundle
   * builder, the admin read routes); readState's copy is for callers that edit.
   */
  readSharedState(): Promise<StoredState>;
  /**
   * Makes `next` the desired state in one transaction: inserts, updates and deletes entries,
   * increments the revision and appends `event`. Nothing is written when nothing changed.
   */
  writeState(
    next: Spec,
    event: NewAuditEvent,
    options?: WriteStateOptions,
  ): Promise<WriteStateResult>;
  // ---- w7-apply ----
  /**
   * Entries another connection of this process validated and wrote (the apply worker's, as
   * their stored text, `kind` as in a Change): the next load of the state takes them with a
   * JSON.parse instead of a schema parse. Only for text written by this version of Outpost
   * after its own parse; a text no row holds is never used, and the next load forgets them.
   */
  adoptWrittenEntries(entries: readonly WrittenEntry[]): void;
  // ---- end w7-apply ----
}

// ---- w7-apply ----
/** An entry of the desired state as its row holds it (StateQueries.adoptWrittenEntries). */
export interface WrittenEntry {
  kind: 'edge' | 'site' | 'dns' | 'acme' | 'ip_lists';
  text: string;
}
// ---- end w7-apply ----

/** Edges' tokens and reports (store/edges.ts). */
export interface EdgeQueries {
  /** Replaces (or with null, revokes) an edge's token hash. False when the edge does not exist. */
  setEdgeTokenHash(
    edgeName: string,
    tokenHash: string | null,
    event: NewAuditEvent,
  ): Promise<boolean>;
  /** The edge whose token hashes to `tokenHash`, if any. */
  findEdgeByTokenHash(tokenHash: string): Promise<string | undefined>;
  /** Whether the edge has a token (it may have been revoked). */
  edgeHasToken(edgeName: string): Promise<boolean>;
  /** The edges that have a token, in one query (GET /v1/edges: not one query per edge). */
  edgesWithToken(): Promise<Set<string>>;
  /** Records an agent's report (heartbeat), replacing the previous one. */
  saveEdgeReport(edgeName: string, report: Record<string, unknown>): Promise<StoredEdgeReport>;
  listEdgeReports(): Promise<StoredEdgeReport[]>;
}

/** Release bundles (store/bundles.ts). */
export interface BundleQueries {
  /** Stores a new release bundle; keeps the newest `keep` releases of that edge. */
  saveBundle(bundle: Omit<StoredBundle, 'created_at'>, keep?: number): Promise<StoredBundle>;
  /** Several edges' new releases in one transaction: all are stored or none. */
  saveBundles(
    bundles: readonly Omit<StoredBundle, 'created_at'>[],
    keep?: number,
  ): Promise<StoredBundle[]>;
  /** The newest release bundle of each edge (or of one edge). */
  latestBundles(): Promise<StoredBundle[]>;
  latestBundle(edgeName: string): Promise<StoredBundle | undefined>;
  /** Every stored release of every edge (manifests: what the file sweep keeps). */
  keptBundles(): Promise<StoredBundle[]>;
  /** Stores file contents by SHA-256; a hash already stored is left as it is. */
  putReleaseFiles(files: readonly { sha256: string; content: Buffer }[]): Promise<void>;
  /** The stored contents of these hashes (absent ones are left out). */
  releaseFiles(hashes: readonly string[]): Promise<Map<string, Buffer>>;
  /** Deletes every stored content whose hash is not in `keep`; returns how many. */
  pruneReleaseFiles(keep: ReadonlySet<string>): Promise<number>;
  /** Bytes of stored contents (what bench:scale reports). */
  releaseFilesBytes(): Promise<number>;
}

/** Purge jobs (store/purges.ts). */
export interface PurgeQueries {
  /** Records a purge for `edges` to run; the job gets its id here. */
  createPurge(
    job: Omit<PurgeJob, 'id'>,
    edges: string[],
    event: NewAuditEvent,
  ): Promise<StoredPurge>;
  getPurge(id: number): Promise<StoredPurge | undefined>;
  /** Jobs the edge has not run yet, oldest first. */
  pendingPurges(edge: string): Promise<PurgeJob[]>;
  /** What an edge did with a job; false when the edge had no such job. */
  recordPurgeResult(edge: string, result: PurgeResult): Promise<boolean>;
}

/** Settings and the audit log (store/settings.ts). */
export interface SettingsQueries {
  /** Small named values of the control plane (admin token hash, signing key, …). */
  getSetting(key: string): Promise<string | undefined>;
  setSetting(key: string, value: string): Promise<void>;
  appendEvent(event: NewAuditEvent): Promise<void>;
  /** Newest first. */
  listEvents(options?: { limit?: number; beforeId?: number }): Promise<AuditEvent[]>;
}

/** Certificates, renewals, HTTP-01 answers (store/certs.ts). */
export interface CertificateQueries {
  /** Every stored certificate, without keys, by domain. */
  listCertificates(): Promise<StoredCertificate[]>;
  getCertificate(domain: string): Promise<StoredCertificate | undefined>;
  /** The PEM private key of a site's certificate: only for the bundles of edges serving it. */
  certificateKey(domain: string): Promise<string | undefined>;
  /** Stores (replaces) a site's certificate and key, and appends `event`, in one transaction. */
  saveCertificate(
    certificate: Omit<StoredCertificate, 'created_at'> & { key_pem: string },
    event: NewAuditEvent,
  ): Promise<StoredCertificate>;
  /** False when there was none. */
  deleteCertificate(domain: string, event: NewAuditEvent): Promise<boolean>;
  listCertificateRenewals(): Promise<CertificateRenewal[]>;
  saveCertificateRenewal(renewal: CertificateRenewal): Promise<void>;
  putAcmeChallenge(challenge: AcmeChallenge): Promise<void>;
  /** The challenge for `token` unless it expired before `now`. */
  getAcmeChallenge(token: string, now: Date): Promise<AcmeChallenge | undefined>;
  /** Removes the token, and any challenge that expired before `now`. */
  deleteAcmeChallenge(token: string, now: Date): Promise<void>;
}

/** The store: every capability's queries over one connection (store/store.ts composes it). */
/** Secrets at rest (store/secret-box.ts): re-sealing them all with a new key. */
export interface SecretQueries {
  /** Re-seals every secret (signing key, ACME account, certificate keys, channel secrets) in one transaction. */
  rotateSecrets(next: import('./secret-box.js').SecretBox, event: NewAuditEvent): Promise<number>;
}

/** A named API token or a UI session, as stored: its hash, never its value. */
export interface StoredApiToken {
  name: string;
  hash: string;
  kind: 'token' | 'session';
  /** The user of a session; null for an API token. */
  user: string | null;
  grant: Grant;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
}

export interface StoredUser {
  name: string;
  /** `scrypt$N$r$p$salt$hash` (access/passwords.ts). */
  password_hash: string;
  grant: Grant;
  created_at: string;
}

/** API tokens, sessions and users (store/access.ts). */
export interface AccessQueries {
  /** False when the name is taken. */
  createApiToken(token: StoredApiToken, event: NewAuditEvent): Promise<boolean>;
  listApiTokens(kind: StoredApiToken['kind']): Promise<StoredApiToken[]>;
  findApiToken(hash: string): Promise<StoredApiToken | undefined>;
  touchApiToken(name: string, at: string): Promise<void>;
  /** False when there was none. */
  deleteApiToken(name: string, event: NewAuditEvent): Promise<boolean>;
  deleteExpiredSessions(now: string): Promise<void>;
  /** create: false when the name is taken; else (new password): false when there is none. */
  putUser(user: StoredUser, event: NewAuditEvent, create: boolean): Promise<boolean>;
  getUser(name: string): Promise<StoredUser | undefined>;
  listUsers(): Promise<StoredUser[]>;
  /** Also ends the user's sessions. False when there was none. */
  deleteUser(name: string, event: NewAuditEvent): Promise<boolean>;
}

/** A notification channel as stored; `secret` is open (the store seals it at rest). */
export interface StoredChannel {
  name: string;
  settings: ChannelSettings;
  secret: string | null;
  /** Whether a secret is stored (`secret` is null in lists even then). */
  has_secret: boolean;
  kinds: AlertKind[];
  min_severity: Severity;
  created_at: string;
  last_sent_at: string | null;
  last_error: string | null;
}

/** Notification channels and the alerts the notifier tracks (store/notifications.ts). */
export interface NotificationQueries {
  /** False when the name is taken. */
  createChannel(
    channel: Omit<StoredChannel, 'created_at' | 'last_sent_at' | 'last_error' | 'has_secret'>,
    event: NewAuditEvent,
  ): Promise<boolean>;
  /** Every channel, by name, without secrets (`secret` is null). */
  listChannels(): Promise<StoredChannel[]>;
  /** One channel with its secret opened: only for a delivery. */
  getChannel(name: string): Promise<StoredChannel | undefined>;
  /** False when there was none. */
  deleteChannel(name: string, event: NewAuditEvent): Promise<boolean>;
  /** A delivery reached the channel (`error` null) or gave up (its error, never a secret). */
  recordDelivery(name: string, at: string, error: string | null): Promise<void>;
  listTrackedAlerts(): Promise<TrackedAlert[]>;
  /** Replaces the tracked alerts with `alerts`, in one transaction. */
  saveTrackedAlerts(alerts: readonly TrackedAlert[]): Promise<void>;
}

export type IncidentKind = 'edge' | 'site';

/** Something that went down: when, until when (null: still down), and what the alert said. */
export interface StoredIncident {
  id: number;
  kind: IncidentKind;
  subject: string;
  started_at: string;
  ended_at: string | null;
  message: string;
}

/** Buckets of one width with `from <= t < to` (Unix seconds). */
export interface HistoryRange {
  resolution: Resolution;
  from: number;
  to: number;
}

export interface HistoryQueries {
  /** Adds each point into its bucket (counts add, gauges average), in one transaction. */
  addHistory(
    resolution: Resolution,
    edges: readonly EdgePoint[],
    sites: readonly SitePoint[],
  ): Promise<void>;
  /** Writes points as they are, replacing their buckets (the hour roll-up). */
  putHistory(
    resolution: Resolution,
    edges: readonly EdgePoint[],
    sites: readonly SitePoint[],
  ): Promise<void>;
  /** Ordered by edge, then time. */
  readEdgeHistory(q: HistoryRange & { edge?: string }): Promise<EdgePoint[]>;
  readSiteHistory(q: HistoryRange & { site?: string }): Promise<SitePoint[]>;
  /** The newest bucket of this width, edges and sites together. */
  latestHistoryBucket(resolution: Resolution): Promise<number | undefined>;
  /** Deletes buckets older than `before`; returns how many rows went. */
  pruneHistory(resolution: Resolution, before: number): Promise<number>;
  /** Opens an incident, or returns the one still open for the subject. */
  openIncident(
    kind: IncidentKind,
    subject: string,
    at: string,
    message: string,
  ): Promise<StoredIncident>;
  /** Ends the open incident of the subject; false when none was open. */
  closeIncident(kind: IncidentKind, subject: string, at: string): Promise<boolean>;
  /** Incidents open or ended since `since`, newest first. */
  listIncidents(q: {
    since: string;
    kind?: IncidentKind;
    subject?: string;
  }): Promise<StoredIncident[]>;
  /** Deletes incidents that ended before `before`. */
  pruneIncidents(before: string): Promise<number>;
}

/** One control plane's state of one probe target (health with hysteresis). */
export interface ProbeObservation {
  target: string;
  state: 'up' | 'down';
  reason: string | null;
  since: string | null;
}

/** What a control plane writes after each round of probes. */
export interface ProbeRound {
  instance: string;
  at: string;
  /** Until when its observations count (ISO time). */
  freshUntil: string;
  /** Observations new or changed since its last round. */
  changed: readonly ProbeObservation[];
  /** Targets it no longer has a state for. */
  removed: readonly string[];
  /** Observers whose `freshUntil` is before this are deleted with their rows. */
  forgetBefore: string;
}

/** Probe results shared by the control planes on one database (migration 009). */
export interface ProbeQueries {
  /** The heartbeat, the changed and removed observations, the forgotten observers: one transaction. */
  saveProbeRound(round: ProbeRound): Promise<void>;
  /** Every other control plane whose `freshUntil` is after `now`, with its observations. */
  freshProbeObservations(
    now: string,
    except: string,
  ): Promise<{ instance: string; freshUntil: string; observations: ProbeObservation[] }[]>;
  /** A control plane that stops takes its observations with it. */
  dropProbeObserver(instance: string): Promise<void>;
}

/** A log request's answer handed from the control plane the edge polls to the one asked. */
export interface LogAnswerQueries {
  /** Stores it (once per id) and deletes answers older than `forgetBefore`. */
  putLogAnswer(a: {
    id: string;
    edge: string;
    answer: string;
    at: string;
    forgetBefore: string;
  }): Promise<void>;
  /** Reads and deletes it; undefined when no control plane stored it (or another took it). */
  takeLogAnswer(id: string): Promise<{ edge: string; answer: string } | undefined>;
}

export interface Store
  extends
    NotificationQueries,
    ProbeQueries,
    LogAnswerQueries,
    HistoryQueries,
    AccessQueries,
    SecretQueries,
    StateQueries,
    EdgeQueries,
    BundleQueries,
    PurgeQueries,
    SettingsQueries,
    CertificateQueries {
  /** Several control planes on one database (PostgreSQL); absent: this process is alone. */
  coordination?: Coordination;
  close(): Promise<void>;
}

/** What changed, announced to every control plane on the database. */
export type ChangeTopic = 'state' | 'bundles' | 'purges' | 'revocations' | 'logs' | 'log-answers';

/**
 * How control planes sharing one database tell each other about changes and choose the one
 * that runs the singletons (PostgreSQL: LISTEN/NOTIFY and a session advisory lock).
 */
export interface Coordination {
  /** This process's id in announcements (its own are not delivered back to it). */
  readonly instance: string;
  /**
   * Tells every other control plane that `topic` changed; `detail` (no spaces, a few KiB at
   * most: NOTIFY payloads end at 8000 bytes) says what, e.g. the edges of a new purge.
   */
  announce(topic: ChangeTopic, detail?: string): Promise<void>;
  /**
   * Calls `fn` for each topic another control plane announces, with its detail (undefined:
   * anything may have changed); returns the unsubscribe.
   */
  onAnnounce(fn: (topic: ChangeTopic, detail: string | undefined) => void): () => void;
  /** Becomes or stays the leader if it can: true while this process holds the leader lock. */
  tryLead(): Promise<boolean>;
  close(): Promise<void>;
}

export class RevisionConflictError extends OutpostError {
  constructor(
    readonly expected: number,
    readonly actual: number,
  ) {
    super(
      'revision_conflict',
      `the desired state changed meanwhile (revision ${actual}, expected ${expected}); retry`,
    );
    this.name = 'RevisionConflictError';
  }
}

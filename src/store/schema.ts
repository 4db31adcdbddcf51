// Row types of the store's tables, as Kysely sees them. Entries of the desired state are kept
// as JSON text of their zod-parsed shape (portable: TEXT in SQLite, TEXT or JSONB later in
// PostgreSQL); timestamps are ISO 8601 text.
import type { Generated } from 'kysely';
import type { AcmeChallenge, StoredBundle } from './types.js';

/** One row (id = 1): the revision of the desired state. */
export interface StateTable {
  id: number;
  revision: number;
}

export interface EdgeTable {
  name: string;
  /** Index of the edge in `spec.edges`. */
  position: number;
  /** JSON of the parsed `Edge`. */
  spec: string;
  /** Hash of the edge's token; null when it has none or it was revoked. Never the token. */
  token_hash: string | null;
  created_at: string;
  updated_at: string;
}

export interface SiteTable {
  domain: string;
  /** Index of the site in `spec.sites`. */
  position: number;
  /** JSON of the parsed `Site`. */
  spec: string;
  created_at: string;
  updated_at: string;
}

/** The single blocks of the desired state: key `dns` or `acme`. */
export interface BlockTable {
  key: string;
  /** JSON of the parsed `DnsSettings` / `AcmeSettings`. */
  value: string;
  created_at: string;
  updated_at: string;
}

/** Small named values of the control plane, not part of the desired state. */
export interface SettingTable {
  key: string;
  value: string;
  updated_at: string;
}

export interface EventTable {
  id: Generated<number>;
  at: string;
  actor: string;
  action: string;
  subject: string;
  /** JSON object. */
  detail: string;
  /** The client address of the request that did it; null for the system's own events. */
  address: string | null;
}

/** A named API token or a UI session: its SHA-256, never its value. */
export interface ApiTokenTable {
  name: string;
  hash: string;
  /** `token` (named API token) or `session` (a user's UI login). */
  kind: string;
  /** The user of a session. */
  user: string | null;
  /** JSON of the spec's `Grant` (scopes, sites, tags). */
  grant: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
}

/** A user of the UI: an scrypt hash of the password (`scrypt$N$r$p$salt$hash`). */
export interface UserTable {
  name: string;
  password_hash: string;
  /** JSON of the spec's `Grant`: the user's role. */
  grant: string;
  created_at: string;
  updated_at: string;
}

/** A release bundle of one edge, immutable once written: the contract's `StoredBundle` as is. */
export type BundleTable = StoredBundle;

/** The content of a release file, by SHA-256 (shared by every release that has it). */
export interface ReleaseFileTable {
  sha256: string;
  content: Buffer;
  size: number;
  created_at: string;
}

/** The last report (heartbeat) of an edge's agent. */
export interface EdgeStatusTable {
  edge: string;
  /** JSON of the agent's report. */
  report: string;
  last_seen: string;
}

/** A site's certificate: chain and private key (ACME-issued or uploaded). */
export interface CertificateTable {
  domain: string;
  /** `acme` or `upload`. */
  source: string;
  /** JSON array of the subject names the certificate covers. */
  names: string;
  /** PEM: leaf first, then intermediates. */
  chain_pem: string;
  /** PEM private key. Never leaves the store except into the bundle of an edge serving the site. */
  key_pem: string;
  issuer: string;
  serial: string;
  not_before: string;
  not_after: string;
  created_at: string;
}

/** Renewal state of a site's certificate: failures in a row and when to try next. */
export interface CertificateRenewalTable {
  domain: string;
  failures: number;
  last_attempt_at: string | null;
  last_error: string | null;
  next_attempt_at: string | null;
  updated_at: string;
}

/** A pending ACME HTTP-01 answer, served to the CA through the edges: the contract's row as is. */
export type AcmeChallengeTable = AcmeChallenge;

export interface PurgeTable {
  id: Generated<number>;
  site: string;
  /** JSON of the PurgeJob without its id. */
  job: string;
  created_at: string;
}

export interface PurgeEdgeTable {
  purge_id: number;
  edge: string;
  /** pending | done | failed */
  state: string;
  removed: number;
  error: string | null;
  updated_at: string;
}

/** A notification channel: settings JSON without the secret, which is sealed apart. */
export interface NotificationChannelTable {
  name: string;
  type: string;
  settings: string;
  secret: string | null;
  /** JSON array of alert kinds (empty: all). */
  kinds: string;
  min_severity: string;
  created_at: string;
  last_sent_at: string | null;
  last_error: string | null;
}

/** An alert the notifier tracks (spec/notify.ts TrackedAlert, as JSON). */
export interface TrackedAlertTable {
  id: string;
  alert: string;
}

interface HistoryCounts {
  res: number;
  t: number;
  up: number;
  down: number;
  latency_ms: number | null;
  latency_n: number;
  requests: number;
  bytes: number;
}

export interface EdgeHistoryTable extends HistoryCounts {
  edge: string;
  hits: number;
  lookups: number;
  res_n: number;
  cpu: number | null;
  load1: number | null;
  mem_used: number | null;
  mem_total: number | null;
  disk_used: number | null;
  disk_total: number | null;
  rx_bps: number | null;
  tx_bps: number | null;
  conns: number | null;
}

export interface SiteHistoryTable extends HistoryCounts {
  site: string;
  s2xx: number;
  s3xx: number;
  s4xx: number;
  s5xx: number;
  c_hit: number;
  c_miss: number;
  c_expired: number;
  c_stale: number;
  c_updating: number;
  c_revalidated: number;
  c_bypass: number;
  c_edge: number;
}

export interface IncidentTable {
  id: Generated<number>;
  /** edge | site */
  kind: string;
  subject: string;
  started_at: string;
  ended_at: string | null;
  message: string;
}

/** A control plane that probes (migration 009): its observations count until `fresh_until`. */
export interface ProbeObserverTable {
  instance: string;
  observed_at: string;
  fresh_until: string;
}

/** One control plane's state of one probe target (migration 009). */
export interface ProbeObservationTable {
  instance: string;
  target: string;
  /** up | down */
  state: string;
  reason: string | null;
  since: string | null;
}

/** A log request's answer on its way to the control plane that asked (migration 009). */
export interface LogAnswerTable {
  id: string;
  edge: string;
  /** The edge's answer as JSON. */
  answer: string;
  created_at: string;
}

export interface Database {
  notification_channels: NotificationChannelTable;
  tracked_alerts: TrackedAlertTable;
  edge_history: EdgeHistoryTable;
  site_history: SiteHistoryTable;
  incidents: IncidentTable;
  purges: PurgeTable;
  purge_edges: PurgeEdgeTable;
  acme_challenges: AcmeChallengeTable;
  certificates: CertificateTable;
  certificate_renewals: CertificateRenewalTable;
  bundles: BundleTable;
  release_files: ReleaseFileTable;
  probe_observers: ProbeObserverTable;
  probe_observations: ProbeObservationTable;
  log_answers: LogAnswerTable;
  edge_status: EdgeStatusTable;
  state: StateTable;
  edges: EdgeTable;
  sites: SiteTable;
  blocks: BlockTable;
  settings: SettingTable;
  events: EventTable;
  api_tokens: ApiTokenTable;
  users: UserTable;
}

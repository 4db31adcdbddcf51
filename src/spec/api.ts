// The admin API's answers, one zod schema each: what the web UI and the CLI read back from the
// control plane (docs/api.md). The server builds these shapes; src/spec/api.test.ts parses the
// real answers of an in-process control plane with them (strict: a field the server adds or
// drops fails it), so they cannot drift. The UI and the CLI take the types (`import type`).
import { z } from 'zod';
import type { Change, SpecDiff as SpecDiffType } from './diff.js';
import { NodeResources } from './edge-report.js';
import { CodedMessageSchema, CodedParamsSchema } from './messages.js';
import { AccessLogLine } from './logs.js';
import { PurgeJob } from './purge.js';
import { Edge, Site, Spec } from './schema.js';
import { sentence } from './problems.js';

const Count = z.number().int().nonnegative();
const Revision = z.number().int().nonnegative();
const Release = z.number().int().positive();
/** ISO 8601 timestamp. */
const Time = z.string().min(1);

// ---- Messages the control plane writes (issue 22, spec/messages.ts) ----
// Beside an English text X, `X_code` (or `code` + `params` beside an alert's or incident's
// `message`) is its code and values, for the UI's catalogues; absent when no code fits the
// text (the UI then shows the English), null when the text is null.
const CodeOfText = CodedMessageSchema.nullable().optional();
const MessageParams = CodedParamsSchema.optional();
// ---- end of the messages block ----

// ---- Errors: every non-2xx answer ----

export const ApiProblem = z
  .object({
    path: z.string(),
    segments: z.array(z.union([z.string(), z.number()])),
    message: z.string(),
    /** The kind of mistake (PROBLEM_CODES) and the values of its message, for translations. */
    code: z.string().optional(),
    params: z.record(z.string()).optional(),
    line: z.number().int().optional(),
    column: z.number().int().optional(),
  })
  .strict();
export type ApiProblem = z.infer<typeof ApiProblem>;

export const ApiErrorAnswer = z
  .object({
    error: z
      .object({
        code: z.string(),
        message: z.string(),
        /** The field the error is about, when there is one. */
        path: z.string().optional(),
        /** Every problem of an invalid document, each with its path. */
        problems: z.array(ApiProblem).optional(),
      })
      .strict(),
  })
  .strict();
export type ApiErrorAnswer = z.infer<typeof ApiErrorAnswer>;

// ---- Desired state: GET /v1/state, /v1/sites, /v1/edges; POST /v1/apply and the edits ----

export const StateAnswer = z.object({ spec: Spec, revision: Revision }).strict();
export type StateAnswer = z.infer<typeof StateAnswer>;

// ---- SiteList (GET /v1/sites, paged with ?limit=&after=; w6-sites) ----
/** Most sites in one page of GET /v1/sites. */
export const MAX_SITE_PAGE = 1000;
export const SiteList = z
  .object({
    revision: Revision,
    /** In the spec's order; one page of them when `limit` was asked. */
    sites: z.array(Site),
    /** The last domain of this page when more follow (pass it as `after`); null at the end. */
    next: z.string().nullable(),
  })
  .strict();
// ---- end SiteList ----
export type SiteList = z.infer<typeof SiteList>;

export const SiteAnswer = z.object({ site: Site }).strict();
export type SiteAnswer = z.infer<typeof SiteAnswer>;

/** An edge as the API lists it: the spec's edge and whether it has a token (never the token). */
export const EdgeWithToken = Edge.extend({ has_token: z.boolean() });
export type EdgeWithToken = z.infer<typeof EdgeWithToken>;

export const EdgeList = z.object({ revision: Revision, edges: z.array(EdgeWithToken) }).strict();
export type EdgeList = z.infer<typeof EdgeList>;

export const EdgeAnswer = z.object({ edge: EdgeWithToken }).strict();
export type EdgeAnswer = z.infer<typeof EdgeAnswer>;

const FieldChangeAnswer = z
  .object({ path: z.string(), from: z.unknown().optional(), to: z.unknown().optional() })
  .strict();
const ChangeAnswer = z
  .object({
    kind: z.enum(['edge', 'site', 'dns', 'acme', 'ip_lists']),
    key: z.string(),
    op: z.enum(['create', 'update', 'delete']),
    fields: z.array(FieldChangeAnswer),
  })
  .strict();
/** What changes between two desired states (the shape of diff.ts's SpecDiff). */
export const SpecDiffAnswer = z.object({ changes: z.array(ChangeAnswer) }).strict();

/** POST /v1/apply (and a dry run): the diff, as data and as the CLI's text. */
export const ChangeResult = z
  .object({
    changed: z.boolean(),
    revision: Revision,
    diff: SpecDiffAnswer,
    /** The diff as readable text, as `outpost apply` prints it. */
    text: z.string(),
    /** Tokens of edges this change created, shown once. */
    edge_tokens: z.record(z.string()),
  })
  .strict();
export type ChangeResult = z.infer<typeof ChangeResult>;

/** POST /v1/sites (201) and PUT /v1/sites/:domain. */
export const SiteChanged = z
  .object({ site: Site, revision: Revision, diff: SpecDiffAnswer })
  .strict();
export type SiteChanged = z.infer<typeof SiteChanged>;

/** PUT /v1/edges/:name. */
export const EdgeChanged = z
  .object({ edge: Edge, revision: Revision, diff: SpecDiffAnswer })
  .strict();
export type EdgeChanged = z.infer<typeof EdgeChanged>;

/** DELETE /v1/sites/:domain and /v1/edges/:name. */
export const Deleted = z.object({ deleted: z.string(), revision: Revision }).strict();
export type Deleted = z.infer<typeof Deleted>;

/** POST /v1/edges (201): the new edge and its token, shown once. */
export const NewEdgeAnswer = z
  .object({ edge: Edge, revision: Revision, token: z.string(), join_command: z.string() })
  .strict();
export type NewEdgeAnswer = z.infer<typeof NewEdgeAnswer>;

/** POST /v1/edges/:name/token: the new token, shown once. */
export const TokenAnswer = z
  .object({ name: z.string(), token: z.string(), join_command: z.string() })
  .strict();
export type TokenAnswer = z.infer<typeof TokenAnswer>;

/** DELETE /v1/edges/:name/token. */
export const TokenRevoked = z.object({ name: z.string(), revoked: z.literal(true) }).strict();
export type TokenRevoked = z.infer<typeof TokenRevoked>;

/** One line of the audit log. */
export const AuditEvent = z
  .object({
    id: z.number().int().positive(),
    at: Time,
    /** `admin token`, `token:NAME`, `user:NAME`, `edge:NAME`, `system`. */
    actor: z.string(),
    /** Dotted: `spec.apply`, `edge.create`, `edge.token.rotate`, … */
    action: z.string(),
    subject: z.string(),
    detail: z.record(z.unknown()),
    /** The client address of the request that did it; null for the system's own events. */
    address: z.string().nullable(),
  })
  .strict();
export type AuditEvent = z.infer<typeof AuditEvent>;

/** GET /v1/events: the audit log, newest first. */
export const EventList = z.object({ events: z.array(AuditEvent) }).strict();
export type EventList = z.infer<typeof EventList>;

// ---- Status: GET /v1/status (and each `status` event of /v1/events/stream) ----

export const Health = z.enum(['up', 'degraded', 'down', 'unknown']);
export type Health = z.infer<typeof Health>;

/** One probe target's state (hysteresis: no `degraded` for a single target). */
export const TargetHealth = z.enum(['up', 'down', 'unknown']);
export type TargetHealth = z.infer<typeof TargetHealth>;

export const EdgeState = z.enum(['ok', 'pending', 'error', 'offline', 'never-seen']);
export type EdgeState = z.infer<typeof EdgeState>;

/** One minute of an edge's traffic. */
export const TrafficPoint = z
  .object({ t: Time, requests: Count, bytes: Count, hits: Count, misses: Count })
  .strict();
export type TrafficPoint = z.infer<typeof TrafficPoint>;

export const EdgeTraffic = z
  .object({
    requests: Count,
    bytes: Count,
    /** HITs over cache lookups, or null without lookups. */
    hit_ratio: z.number().min(0).max(1).nullable(),
    /** Requests refused by an access rule / a rate limit (issue 16), since the start. */
    denied: Count,
    rate_limited: Count,
    /** The last hour, oldest first, one point per minute. */
    series: z.array(TrafficPoint),
    /** Requests the WAF answered 403 since the control plane started (issue 16 part B). */
    waf_blocked: Count,
  })
  .strict();
export type EdgeTraffic = z.infer<typeof EdgeTraffic>;

export const EdgeStatus = z
  .object({
    name: z.string(),
    paused: z.boolean(),
    state: EdgeState,
    /** Newest release built for the edge, and the desired-state revision it came from. */
    desired_release: Release.nullable(),
    desired_revision: Revision.nullable(),
    applied_release: Release.nullable(),
    last_seen: Time.nullable(),
    /** Seconds since the last report. */
    age_seconds: Count.nullable(),
    proxy_running: z.boolean().nullable(),
    /** The edge's proxy, as its spec says. */
    proxy: z.enum(['nginx', 'caddy']),
    /** Whether the edge caches, as its agent reported (null before a report says). */
    cache: z.boolean().nullable(),
    /** Something the operator should know that is not an error (e.g. no cache), or null. */
    note: z.string().nullable(),
    note_code: CodeOfText,
    /** The edge's own last error, or the control plane's reason for not publishing. */
    error: z.string().nullable(),
    error_code: CodeOfText,
    /** When a request from the edge's agent was refused for its token (newer than its last report). */
    token_rejected_at: Time.nullable(),
    /** The control-plane URL the edge's agent last reported to, or null before it said. */
    control_plane: z.string().nullable(),
    health: Health,
    health_reason: z.string().nullable(),
    health_reason_code: CodeOfText,
    traffic: EdgeTraffic,
    active_connections: Count.nullable(),
    /** How long the agent's last `nginx -t` / `caddy validate` took (ms), or null. */
    validation_ms: Count.nullable(),
    /** The machine's resources from the newest report's newest sample, or null. */
    resources: NodeResources.nullable(),
    /** Network use against the edge's `bandwidth_mbps` (the greater of in and out). */
    bandwidth: z
      .object({
        capacity_mbps: z.number().positive().nullable(),
        used_mbps: z.number().nonnegative().nullable(),
        /** used over capacity, in percent, or null without both. */
        percent: z.number().nonnegative().nullable(),
      })
      .strict(),
  })
  .strict();
export type EdgeStatus = z.infer<typeof EdgeStatus>;

// ---- w6-status: the compact site status (issue 14) and one site's edges ----

/** A site's probe through one edge. */
export const SiteEdgeHealth = z
  .object({
    name: z.string(),
    health: TargetHealth,
    reason: z.string().nullable(),
    reason_code: CodeOfText,
  })
  .strict();
export type SiteEdgeHealth = z.infer<typeof SiteEdgeHealth>;

/** Every edge serving a site, counted by the state of the site's probe through it. */
export const EdgesByHealth = z.object({ up: Count, down: Count, unknown: Count }).strict();
export type EdgesByHealth = z.infer<typeof EdgesByHealth>;

const siteStatusFields = {
  domain: z.string(),
  health: Health,
  reason: z.string().nullable(),
  reason_code: CodeOfText,
  edges_by_health: EdgesByHealth,
  /** Probes of each origin, by its index in the site's origins. */
  origins: z.array(
    z
      .object({
        index: Count,
        health: TargetHealth,
        reason: z.string().nullable(),
        reason_code: CodeOfText,
      })
      .strict(),
  ),
};

/**
 * A site in GET /v1/status: its verdict, its edges counted by health, and only the edges where
 * it is down (the answer grows with sites + edges + problems, not sites × edges; docs/status.md).
 */
export const SiteStatus = z
  .object({
    ...siteStatusFields,
    /** The edges where the site's probe is down (every one: GET /v1/status/sites/:domain). */
    edges: z.array(SiteEdgeHealth),
  })
  .strict();
export type SiteStatus = z.infer<typeof SiteStatus>;

/** GET /v1/status/sites/:domain: the same site with its probe through every edge serving it. */
export const SiteEdgesStatus = z
  .object({
    revision: Revision,
    ...siteStatusFields,
    /** Every edge that serves the site, in the spec's order. */
    edges: z.array(SiteEdgeHealth),
  })
  .strict();
export type SiteEdgesStatus = z.infer<typeof SiteEdgesStatus>;

// ---- end w6-status ----

/** Every kind of alert; with its subject it makes the alert's stable id (spec/notify.ts). */
export const AlertKind = z.enum([
  'edge_down',
  'site_down',
  'config_error',
  'cert_expiring',
  'dns_drift',
  'dns_origin_fallback',
  /** An edge used more than the threshold of its bandwidth_mbps for the whole window. */
  'edge_bandwidth',
]);
export type AlertKind = z.infer<typeof AlertKind>;

export const Alert = z
  .object({
    kind: AlertKind,
    subject: z.string(),
    message: z.string(),
    code: z.string().optional(),
    params: MessageParams,
    since: Time.nullable(),
  })
  .strict();
export type Alert = z.infer<typeof Alert>;

export const StatusSnapshot = z
  .object({
    revision: Revision,
    edges: z.array(EdgeStatus),
    sites: z.array(SiteStatus),
    alerts: z.array(Alert),
  })
  .strict();
export type StatusSnapshot = z.infer<typeof StatusSnapshot>;

/** GET /v1/public/status (no token): no addresses, no errors, no secrets. */
export const PublicStatus = z
  .object({
    updated_at: Time,
    edges: z.array(z.object({ name: z.string(), state: EdgeState, health: Health }).strict()),
    sites: z.array(z.object({ domain: z.string(), health: Health }).strict()),
  })
  .strict();
export type PublicStatus = z.infer<typeof PublicStatus>;

// ---- History (docs/status.md): GET /v1/history/…, the status settings, the public page ----

export const HistoryRange = z.enum(['1h', '24h', '7d', '90d']);
export type HistoryRange = z.infer<typeof HistoryRange>;

/** One point of an edge's series (a bucket of `step_seconds`); null: no data in the bucket. */
export const EdgeHistoryPoint = z
  .object({
    t: Time,
    /** Share of health samples in which the edge was up. */
    up_ratio: z.number().min(0).max(1).nullable(),
    latency_ms: z.number().nonnegative().nullable(),
    requests: Count,
    bytes: Count,
    hit_ratio: z.number().min(0).max(1).nullable(),
    cpu: z.number().nonnegative().nullable(),
    load1: z.number().nonnegative().nullable(),
    mem_used: z.number().nonnegative().nullable(),
    mem_total: z.number().nonnegative().nullable(),
    disk_used: z.number().nonnegative().nullable(),
    disk_total: z.number().nonnegative().nullable(),
    rx_bps: z.number().nonnegative().nullable(),
    tx_bps: z.number().nonnegative().nullable(),
    conns: z.number().nonnegative().nullable(),
  })
  .strict();
export type EdgeHistoryPoint = z.infer<typeof EdgeHistoryPoint>;

export const SiteHistoryPoint = z
  .object({
    t: Time,
    up_ratio: z.number().min(0).max(1).nullable(),
    /** Mean latency of the site's origin probes. */
    latency_ms: z.number().nonnegative().nullable(),
    requests: Count,
    bytes: Count,
    hit_ratio: z.number().min(0).max(1).nullable(),
    status: z.record(z.string(), Count),
    cache: z.record(z.string(), Count),
  })
  .strict();
export type SiteHistoryPoint = z.infer<typeof SiteHistoryPoint>;

export const EdgeSeries = z
  .object({
    name: z.string(),
    bandwidth_mbps: z.number().positive().nullable(),
    points: z.array(EdgeHistoryPoint),
  })
  .strict();
export type EdgeSeries = z.infer<typeof EdgeSeries>;

/** GET /v1/history/edges and /v1/history/edges/:name (one edge in `edges`). */
export const EdgesHistory = z
  .object({ range: HistoryRange, step_seconds: Count, edges: z.array(EdgeSeries) })
  .strict();
export type EdgesHistory = z.infer<typeof EdgesHistory>;

/** GET /v1/history/sites/:domain */
export const SiteHistory = z
  .object({
    range: HistoryRange,
    step_seconds: Count,
    site: z.string(),
    points: z.array(SiteHistoryPoint),
  })
  .strict();
export type SiteHistory = z.infer<typeof SiteHistory>;

/** What the status page shows and when bandwidth is an alert (GET/PUT /v1/status/settings). */
export const StatusSettings = z
  .object({
    /** The public page's title. */
    title: z.string().trim().min(1).max(100).default('Status'),
    /** Sites on the public page: domains, or `*` for all. */
    sites: z.array(z.string().min(1).max(253)).max(1000).default(['*']),
    /** Edges on the public page: names, or `*` for all (paused edges never show). */
    edges: z.array(z.string().min(1).max(63)).max(1000).default(['*']),
    /** Whether each site has its own page (/status/site/DOMAIN) and badge. */
    site_pages: z.boolean().default(true),
    bandwidth_alert: z
      .object({
        /** Use above this share of `bandwidth_mbps`… */
        percent: z.number().min(1).max(100).default(90),
        /** …for this many minutes in a row is an `edge_bandwidth` alert. */
        minutes: z.number().int().min(1).max(60).default(5),
      })
      .strict()
      .default({}),
  })
  .strict();
export type StatusSettings = z.infer<typeof StatusSettings>;
export type StatusSettingsInput = z.input<typeof StatusSettings>;

/** Something that went down, as the public page lists it. */
export const PublicIncident = z
  .object({
    kind: z.enum(['edge', 'site']),
    subject: z.string(),
    started_at: Time,
    ended_at: Time.nullable(),
    duration_seconds: Count,
    message: z.string(),
    code: z.string().optional(),
    params: MessageParams,
  })
  .strict();
export type PublicIncident = z.infer<typeof PublicIncident>;

/** One subject's row on the public page: current state, 90 daily bars, response times. */
export const PublicSubjectHistory = z
  .object({
    name: z.string(),
    health: Health,
    /** Uptime over the 90 days, or null without a sample. */
    uptime: z.number().min(0).max(1).nullable(),
    /** 90 days, oldest first: the share of samples up that day (null: no sample). */
    days: z.array(
      z.object({ date: z.string(), up_ratio: z.number().min(0).max(1).nullable() }).strict(),
    ),
    /** The last 24 h in 15-minute buckets: mean probe latency. */
    latency: z.array(z.object({ t: Time, ms: z.number().nonnegative().nullable() }).strict()),
  })
  .strict();
export type PublicSubjectHistory = z.infer<typeof PublicSubjectHistory>;

/** GET /v1/public/status/history (no token): still no addresses, no errors, no secrets. */
export const PublicStatusHistory = z
  .object({
    title: z.string(),
    updated_at: Time,
    site_pages: z.boolean(),
    edges: z.array(PublicSubjectHistory),
    sites: z.array(PublicSubjectHistory),
    /** The last 90 days, newest first. */
    incidents: z.array(PublicIncident),
  })
  .strict();
export type PublicStatusHistory = z.infer<typeof PublicStatusHistory>;

/** GET /v1/public/status/sites/:domain */
export const PublicSiteStatus = z
  .object({
    title: z.string(),
    updated_at: Time,
    site: PublicSubjectHistory,
    incidents: z.array(PublicIncident),
  })
  .strict();
export type PublicSiteStatus = z.infer<typeof PublicSiteStatus>;

/** GET /v1/public/badge/:domain.json: the shields.io endpoint format. */
export const StatusBadge = z
  .object({
    schemaVersion: z.literal(1),
    label: z.string(),
    message: z.string(),
    color: z.string(),
  })
  .strict();
export type StatusBadge = z.infer<typeof StatusBadge>;

/** GET /v1/edges/:name/plan: the compiled plan (as compile/ shapes it), newest release, status. */
export const EdgePlanAnswer = z
  .object({
    plan: z.record(z.unknown()),
    release: z
      .object({ release: Release, revision: Revision, hash: z.string(), created_at: Time })
      .strict()
      .nullable(),
    status: EdgeStatus.nullable(),
  })
  .strict();
export type EdgePlanAnswer = z.infer<typeof EdgePlanAnswer>;

// ---- Certificates: GET /v1/certificates, …/:domain, issue and its attempts ----

export const ChallengeType = z.enum(['http-01', 'dns-01']);

/** One site's certificate (one row per site). Never a key. */
export const CertificateRow = z
  .object({
    domain: z.string(),
    /** The names the site needs: domain first, then aliases. */
    names: z.array(z.string()),
    /** The names the stored certificate covers, or null without one. */
    certificate_names: z.array(z.string()).nullable(),
    source: z.enum(['acme', 'upload']).nullable(),
    issuer: z.string().nullable(),
    serial: z.string().nullable(),
    not_before: Time.nullable(),
    not_after: Time.nullable(),
    days_left: z.number().int().nullable(),
    /** When Outpost will next try to issue or renew (null: it will not by itself). */
    next_renewal: Time.nullable(),
    failures: Count,
    last_attempt_at: Time.nullable(),
    last_error: z.string().nullable(),
    acme: z.boolean(),
    challenge: ChallengeType.nullable(),
    /** Why Outpost cannot get a certificate for this site by ACME, if it cannot. */
    problem: z.string().nullable(),
    problem_code: CodeOfText,
    /** Edges that receive the certificate. */
    edges: z.array(z.string()),
  })
  .strict();
export type CertificateRow = z.infer<typeof CertificateRow>;

export const CertificateList = z.object({ certificates: z.array(CertificateRow) }).strict();
export type CertificateList = z.infer<typeof CertificateList>;

/** GET /v1/certificates/:domain: the row and the public chain. */
export const CertificateDetail = z
  .object({ certificate: CertificateRow.extend({ chain_pem: z.string().nullable() }) })
  .strict();
export type CertificateDetail = z.infer<typeof CertificateDetail>;

/** DELETE /v1/certificates/:domain. */
export const CertificateDeleted = z.object({ deleted: z.string() }).strict();
export type CertificateDeleted = z.infer<typeof CertificateDeleted>;

/** PUT /v1/certificates/:domain (an upload). */
export const CertificateUploaded = z.object({ certificate: CertificateRow }).strict();
export type CertificateUploaded = z.infer<typeof CertificateUploaded>;

export const AttemptStep = z.enum([
  'started',
  'order',
  'challenge',
  'validated',
  'issued',
  'published',
  'failed',
]);

export const AttemptEvent = z
  .object({
    seq: z.number().int().positive(),
    at: Time,
    step: AttemptStep,
    message: z.string(),
    /** With `published`: the release of each edge of the site that carries the certificate. */
    releases: z.record(Release).optional(),
  })
  .strict();
export type AttemptEvent = z.infer<typeof AttemptEvent>;

/** An issuance and its progress so far. */
export const CertificateAttempt = z
  .object({
    id: z.string(),
    domain: z.string(),
    trigger: z.enum(['missing', 'names-changed', 'renewal', 'manual']),
    done: z.boolean(),
    ok: z.boolean().nullable(),
    events: z.array(AttemptEvent),
  })
  .strict();
export type CertificateAttempt = z.infer<typeof CertificateAttempt>;

/** POST /v1/certificates/:domain/issue (202) and GET …/attempts/:id. */
export const AttemptAnswer = z.object({ attempt: CertificateAttempt }).strict();
export type AttemptAnswer = z.infer<typeof AttemptAnswer>;

// ---- DNS: GET /v1/dns/plan, /v1/dns/status; POST /v1/dns/apply ----

export const DnsProviderKind = z.enum(['powerdns', 'gcore', 'cloudflare', 'dnspod', 'alidns']);

/** A record set as the provider holds it (body: provider-native). */
export const ProviderRRset = z
  .object({
    name: z.string(),
    type: z.string(),
    ttl: z.number().int().nonnegative(),
    body: z.unknown(),
    /** Outpost wrote this set and marked it as its own. */
    managed: z.boolean(),
  })
  .strict();
export type ProviderRRset = z.infer<typeof ProviderRRset>;

const DnsAction = z.enum(['create', 'replace', 'delete']);
const RRsetKey = z.object({ name: z.string(), type: z.string() }).strict();

export const ZonePlan = z
  .object({
    zone: z.string(),
    changes: z.array(
      z
        .object({
          action: DnsAction,
          name: z.string(),
          type: z.string(),
          before: ProviderRRset.nullable(),
          after: ProviderRRset.nullable(),
        })
        .strict(),
    ),
    /** Managed sets no site needs any more (deleted only with prune). */
    obsolete: z.array(RRsetKey),
    /** Sets Outpost does not own, reported and never touched. */
    unmanaged: z.array(RRsetKey.extend({ conflict: z.boolean() })),
    /** Why this zone could not be planned (the others still are). */
    error: z.string().nullable(),
  })
  .strict();
export type ZonePlan = z.infer<typeof ZonePlan>;

const DnsPlanProblem = z.object({ site: z.string(), message: z.string() }).strict();

/** GET /v1/dns/plan: what an apply would change now (nothing is written). */
export const DnsPlan = z
  .object({
    provider: DnsProviderKind.nullable(),
    zones: z.array(ZonePlan),
    problems: z.array(DnsPlanProblem),
  })
  .strict();
export type DnsPlan = z.infer<typeof DnsPlan>;

/** POST /v1/dns/apply: what was planned and what each zone applied. */
export const DnsApplyAnswer = z
  .object({
    provider: DnsProviderKind.nullable(),
    plan: z.object({ zones: z.array(ZonePlan), problems: z.array(DnsPlanProblem) }).strict(),
    results: z.array(
      z
        .object({
          zone: z.string(),
          applied: z.array(RRsetKey.extend({ action: DnsAction })),
          error: z.string().nullable(),
        })
        .strict(),
    ),
  })
  .strict();
export type DnsApplyAnswer = z.infer<typeof DnsApplyAnswer>;

export const ZoneStatus = z
  .object({
    zone: z.string(),
    state: z.enum(['in_sync', 'pending', 'error']),
    /** Changes a sync would make now (0 when in sync). */
    pending_changes: Count,
    obsolete: Count,
    unmanaged: Count,
    /** Plain A/AAAA/CNAME sets, not Outpost's, at names Outpost publishes ("NAME TYPE"). */
    conflicts: z.array(z.string()),
    error: z.string().nullable(),
    checked_at: Time,
  })
  .strict();
export type ZoneStatus = z.infer<typeof ZoneStatus>;

/** GET /v1/dns/status: each zone's drift. */
export const DnsStatus = z
  .object({
    provider: DnsProviderKind.nullable(),
    syncing: z.boolean(),
    last_sync: Time.nullable(),
    zones: z.array(ZoneStatus),
  })
  .strict();
export type DnsStatus = z.infer<typeof DnsStatus>;

// ---- Purge: POST /v1/sites/:domain/purge (202), GET /v1/purges/:id ----

export const PurgeStatus = z
  .object({
    job: PurgeJob,
    /** Where each edge of the site stands with the job. */
    edges: z.array(
      z
        .object({
          edge: z.string(),
          state: z.enum(['pending', 'done', 'failed']),
          removed: Count,
          error: z.string().nullable(),
          updated_at: Time,
        })
        .strict(),
    ),
  })
  .strict();
export type PurgeStatus = z.infer<typeof PurgeStatus>;

// ---- The edge API (an edge's own token): what the agent reads back ----

/** GET /v1/edge/hello: the edge the token belongs to and the key that signs its bundles. */
export const EdgeHello = z
  .object({ edge: z.string(), public_key: z.string(), fingerprint: z.string() })
  .strict();
export type EdgeHello = z.infer<typeof EdgeHello>;

/** GET /healthz (no token). */
export const Healthz = z.object({ ok: z.literal(true), version: z.string() }).strict();
export type Healthz = z.infer<typeof Healthz>;

// The diff's shapes are declared in diff.ts (where they are computed); the schema above must
// describe exactly them. These fail to compile when the two part.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const diffMatches: Same<z.infer<typeof SpecDiffAnswer>, SpecDiffType> = true;
const changeMatches: Same<z.infer<typeof ChangeAnswer>, Change> = true;
void diffMatches;
void changeMatches;

// ---- Access: API tokens, users, login (docs/security.md "Access and secrets") ----

/**
 * What a credential may do. `read`: every GET. `purge`: purge a site, read its purges.
 * `sites:write`: create, change, delete sites and their certificates. `edges:write`: create,
 * change, delete edges and their tokens. `admin`: everything (state apply, DNS apply, tokens,
 * users, the audit log).
 */
export const Scope = z.enum(['read', 'purge', 'sites:write', 'edges:write', 'admin']);
export type Scope = z.infer<typeof Scope>;

const Domainish = z.string().min(1).max(253);
const TagName = z.string().min(1).max(63);

/** Scopes and, for `purge` and `sites:write`, the sites (by domain or tag) they stop at. */
export const Grant = z
  .object({
    scopes: z.array(Scope).min(1, sentence('scopes_none')),
    /** Domains `purge`/`sites:write` apply to; with `tags` empty too: every site. */
    sites: z.array(Domainish).default([]),
    /** Tags of sites `purge`/`sites:write` apply to. */
    tags: z.array(TagName).default([]),
  })
  .strict();
export type Grant = z.infer<typeof Grant>;

const CredentialName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, sentence('credential_name_format'));

/** POST /v1/tokens. */
export const TokenCreate = Grant.extend({
  name: CredentialName,
  /** ISO 8601 expiry; absent: never expires. */
  expires_at: z.string().datetime({ offset: true }).optional(),
}).strict();
export type TokenCreate = z.infer<typeof TokenCreate>;

/** A named API token as listed (never its value, never its hash). */
export const ApiTokenInfo = z
  .object({
    name: z.string(),
    scopes: z.array(Scope),
    sites: z.array(z.string()),
    tags: z.array(z.string()),
    created_at: Time,
    expires_at: Time.nullable(),
    last_used_at: Time.nullable(),
  })
  .strict();
export type ApiTokenInfo = z.infer<typeof ApiTokenInfo>;

/** GET /v1/tokens. */
export const ApiTokenList = z.object({ tokens: z.array(ApiTokenInfo) }).strict();
export type ApiTokenList = z.infer<typeof ApiTokenList>;

/** POST /v1/tokens: the token's value, shown this once. */
export const ApiTokenCreated = z.object({ token: ApiTokenInfo, value: z.string() }).strict();
export type ApiTokenCreated = z.infer<typeof ApiTokenCreated>;

/** POST /v1/users. */
export const UserCreate = Grant.extend({
  name: CredentialName,
  password: z.string().min(12, sentence('password_too_short')).max(1024),
}).strict();
export type UserCreate = z.infer<typeof UserCreate>;

/** PUT /v1/users/:name/password. */
export const UserPassword = z
  .object({ password: z.string().min(12, sentence('password_too_short')).max(1024) })
  .strict();
export type UserPassword = z.infer<typeof UserPassword>;

export const UserInfo = z
  .object({
    name: z.string(),
    scopes: z.array(Scope),
    sites: z.array(z.string()),
    tags: z.array(z.string()),
    created_at: Time,
  })
  .strict();
export type UserInfo = z.infer<typeof UserInfo>;

/** POST /v1/users (201) and PUT /v1/users/:name/password. */
export const UserAnswer = z.object({ user: UserInfo }).strict();
export type UserAnswer = z.infer<typeof UserAnswer>;

/** DELETE /v1/users/:name. */
export const UserRemoved = z.object({ name: z.string(), removed: z.literal(true) }).strict();
export type UserRemoved = z.infer<typeof UserRemoved>;

/** POST /v1/secrets/rotate-key: how many secrets were re-sealed, and the new key's id. */
export const SecretsRotated = z.object({ secrets: Count, key: z.string() }).strict();
export type SecretsRotated = z.infer<typeof SecretsRotated>;

/** GET /v1/users. */
export const UserList = z.object({ users: z.array(UserInfo) }).strict();
export type UserList = z.infer<typeof UserList>;

/** POST /v1/login (no token): a user's name and password. */
export const LoginRequest = z
  .object({ user: z.string().min(1).max(63), password: z.string().min(1).max(1024) })
  .strict();
export type LoginRequest = z.infer<typeof LoginRequest>;

/** POST /v1/login: a session token for the UI (a bearer token like any other), and when it ends. */
export const LoginAnswer = z
  .object({ token: z.string(), expires_at: Time, user: z.string(), scopes: z.array(Scope) })
  .strict();
export type LoginAnswer = z.infer<typeof LoginAnswer>;

/** GET /v1/whoami: the credential of the request. */
export const WhoAmI = z
  .object({
    kind: z.enum(['admin', 'token', 'user']),
    name: z.string(),
    scopes: z.array(Scope),
    sites: z.array(z.string()),
    tags: z.array(z.string()),
  })
  .strict();
export type WhoAmI = z.infer<typeof WhoAmI>;

// ---- Access logs on demand (docs/logs.md) ----

/** One line of a site's access log, with the edge that wrote it. */
export const SiteLogLine = AccessLogLine.extend({ edge: z.string() }).strict();
export type SiteLogLine = z.infer<typeof SiteLogLine>;

/** How one edge answered a log request. */
export const SiteLogEdge = z
  .object({
    edge: z.string(),
    answered: z.boolean(),
    lines: Count,
    /** More lines matched than its bounds let through. */
    truncated: z.boolean(),
    /** Why it has no lines: it did not answer in time, or could not read its log. */
    error: z.string().nullable(),
  })
  .strict();
export type SiteLogEdge = z.infer<typeof SiteLogEdge>;

/** GET /v1/sites/:domain/logs: the matching lines of every edge, oldest first. */
export const SiteLogs = z
  .object({
    site: z.string(),
    lines: z.array(SiteLogLine),
    edges: z.array(SiteLogEdge),
    /** Pass back as ?cursor= for the lines written since (`outpost logs --follow`). */
    cursor: z.string(),
  })
  .strict();
export type SiteLogs = z.infer<typeof SiteLogs>;

// The sentences the control plane writes itself (health reasons, alert texts, incident messages,
// build and DNS errors), each with a stable code and the values it was worded with (issue 22).
// The English text stays what the API, the CLI and notifications carry; the code and params ride
// beside it so that the web UI can show the sentence from its catalogues (`messages.<code>`: the
// translation in src/web/app/i18n/zh-CN.ts; en.ts takes the English from this table), falling
// back to the English text for a code it lacks.
//
// One table, MESSAGE_TEMPLATES, is both the English wording (`englishOf`) and the reading of an
// English text back into its code (`parseMessage`): stored rows (incidents written before codes
// existed), reasons kept as text (probe results) and texts other modules word (the builder's
// `nginx -t` refusal) are read back at answer time, so old rows get a code too and no migration
// is needed. A text no template matches keeps no code and is shown in English.
import { z } from 'zod';

export const MESSAGE_TEMPLATES = {
  // Probes (health/prober.ts): why a probe failed.
  probe_status: 'status {{status}}',
  probe_without_header: 'answered {{status}} without {{header}}',
  probe_timeout: 'timeout after {{ms}} ms',
  probe_tls: 'TLS error: {{error}}',
  probe_connection_failed: 'connection failed: {{error}}',
  probes_fail: 'probes fail',
  // A site's verdict (health/status.ts).
  site_origins_down: 'origins: {{reason}}',
  site_edges_down: 'edges: {{reason}}',
  // An edge's state (health/edge-status.ts).
  edge_token_rejected:
    "token rejected at {{at}}: the edge's agent holds a wrong or revoked token (after rotate-token, run the join command on the edge with the new one)",
  edge_control_plane_error: 'control plane: {{error}}',
  edge_note_caddy_no_cache:
    'Caddy without the cache module (http.handlers.cache): this edge proxies every request without caching (see docs/proxies.md)',
  edge_note_no_cache: 'this edge proxies every request without caching',
  // The builder's refusals (edges/builder.ts words them; read back here).
  build_nginx_rejected: 'nginx rejected the rendered configuration: {{output}}',
  build_nginx_timeout:
    'nginx -t did not finish within {{seconds}} s (a timeout, not a refusal; raise --nginx-check-timeout): {{output}}',
  build_caddy_rejected: 'caddy rejected the rendered configuration: {{output}}',
  // A build that failed as a whole (edges/builder.ts), because its worker died or hung
  // (edges/build-worker.ts).
  build_failed: 'the bundle build failed (the edge keeps serving its previous release): {{error}}',
  build_worker_died: 'the build worker died: {{error}}',
  build_worker_timeout:
    'the build worker did not answer within {{seconds}} s (it was stopped and another one started; raise --build-timeout if builds this large need longer)',
  // An apply that its worker did not answer (state/apply-worker.ts): POST /v1/apply's 503.
  apply_worker_died:
    'the apply worker died during the apply: {{error}} (nothing was half applied; apply again)',
  apply_worker_timeout:
    'the apply worker did not answer within {{seconds}} s (it was stopped; nothing was half applied; raise --apply-timeout if applies this large need longer)',
  // Alerts (health/status.ts, health/bandwidth.ts, dns/alerts.ts) and incidents (health/history.ts).
  alert_edge_offline: 'edge {{edge}} has not reported for {{seconds}} s',
  alert_edge_down: 'edge {{edge}} is down: {{reason}}',
  alert_config_error: 'edge {{edge}}: {{error}}',
  alert_site_down: 'site {{site}} is down: {{reason}}',
  alert_edge_bandwidth:
    'edge {{edge}} has used more than {{percent}}% of its {{capacity}} Mbit/s for {{minutes}} min ({{mean}} Mbit/s on average)',
  dns_zone_pending: 'DNS zone {{zone}}: {{count}} change(s) not applied',
  dns_zone_conflict:
    "DNS zone {{zone}}: {{record}} is not Outpost's but sits at a name Outpost publishes: its records are served too (remove it by hand)",
  // After the two above: it would read their texts too.
  dns_zone_error: 'DNS zone {{zone}}: {{error}}',
  dns_origin_fallback:
    '{{name}} {{type}} answers the origin ({{answers}}): no edge of site {{site}} is up',
  dns_sync_failed: 'sync failed',
  // Certificates (certs/policy.ts words them; read back here): why ACME cannot, and the alert.
  cert_wildcard_needs_dns01: 'wildcard names need the dns-01 challenge',
  cert_no_edge_for_http01: 'no edge serves the site to answer http-01',
  cert_wildcard_no_dns_provider: 'wildcard names need dns-01, and the spec has no dns provider',
  cert_no_edge_no_dns_provider:
    'no edge serves the site and the spec has no dns provider for dns-01',
  cert_alert: 'certificate of {{site}} {{when}}; {{why}}',
  cert_expired_on: 'expired on {{date}}',
  cert_expires_in_one_day: 'expires in 1 day',
  cert_expires_in_days: 'expires in {{days}} days',
  cert_uploaded: 'it was uploaded: upload a new one',
  cert_renewal_failing: 'renewal keeps failing: {{error}}',
  cert_not_renewed: 'it has not been renewed',
} as const;

export type MessageCode = keyof typeof MESSAGE_TEMPLATES;
export const MESSAGE_CODES = Object.keys(MESSAGE_TEMPLATES) as MessageCode[];

/** A sentence as a code and the values it was worded with; a value may be a sentence itself. */
export interface CodedMessage {
  code: string;
  params: Record<string, string | CodedMessage>;
}

/** How deep sentences nest (a site down because its origins are: a connection failed). */
const MAX_DEPTH = 3;

// Three levels, not a recursive schema: the OpenAPI document is built without $refs.
const Leaf = z.object({ code: z.string(), params: z.record(z.string()) }).strict();
const Middle = z
  .object({ code: z.string(), params: z.record(z.union([z.string(), Leaf])) })
  .strict();
/** A coded sentence's values in an API answer (sentences nest three deep at most). */
export const CodedParamsSchema: z.ZodType<CodedMessage['params']> = z.record(
  z.union([z.string(), Middle]),
);
/** A coded sentence in an API answer (beside its English text). */
export const CodedMessageSchema: z.ZodType<CodedMessage> = z
  .object({ code: z.string(), params: CodedParamsSchema })
  .strict();

/** Values that are names (no spaces) and numbers: they keep the reading back unambiguous. */
const NAME_PARAMS = new Set(['edge', 'site', 'zone', 'header', 'name', 'type', 'at', 'date']);
const NUMBER_PARAMS = new Set([
  'status',
  'ms',
  'seconds',
  'count',
  'percent',
  'capacity',
  'minutes',
  'mean',
  'days',
]);
/** Values that may be a sentence of the table themselves. */
const NESTED_PARAMS = new Set(['reason', 'error', 'when', 'why']);

const PLACEHOLDER = /\{\{(\w+)\}\}/g;

/** A code with its values (string values; nested sentences as CodedMessage). */
export function coded(
  code: MessageCode,
  params: Record<string, string | number | CodedMessage> = {},
): CodedMessage {
  return {
    code,
    params: Object.fromEntries(
      Object.entries(params).map(([k, v]) => [k, typeof v === 'number' ? String(v) : v]),
    ),
  };
}

/** The English sentence of a coded message (nested ones worded in place). */
export function englishOf(m: CodedMessage): string {
  const template = (MESSAGE_TEMPLATES as Record<string, string>)[m.code];
  if (template === undefined) throw new Error(`unknown message code ${m.code}`);
  return template.replace(PLACEHOLDER, (_, name: string) => {
    const v = m.params[name];
    if (v === undefined) throw new Error(`message ${m.code} lacks its value ${name}`);
    return typeof v === 'string' ? v : englishOf(v);
  });
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const READERS = MESSAGE_CODES.map((code) => {
  const template = MESSAGE_TEMPLATES[code];
  const names: string[] = [];
  let source = '^';
  let last = 0;
  for (const m of template.matchAll(PLACEHOLDER)) {
    const name = m[1] ?? '';
    names.push(name);
    source += escape(template.slice(last, m.index));
    source += NAME_PARAMS.has(name)
      ? '(\\S+)'
      : NUMBER_PARAMS.has(name)
        ? '(\\?|\\d+(?:\\.\\d+)?)'
        : '([\\s\\S]*?)';
    last = (m.index ?? 0) + m[0].length;
  }
  source += `${escape(template.slice(last))}$`;
  return { code, names, re: new RegExp(source) };
});

/**
 * The code and values of an English sentence the table words, or null for any other text.
 * A value that is itself a sentence of the table (a reason, an error) is read back as well.
 */
export function parseMessage(text: string, depth = MAX_DEPTH): CodedMessage | null {
  if (depth <= 0) return null;
  for (const r of READERS) {
    const m = r.re.exec(text);
    if (!m) continue;
    const params: Record<string, string | CodedMessage> = {};
    r.names.forEach((name, i) => {
      const value = m[i + 1] ?? '';
      const inner = NESTED_PARAMS.has(name) ? parseMessage(value, depth - 1) : null;
      params[name] = inner ?? value;
    });
    return { code: r.code, params };
  }
  return null;
}

/** The coded form of a text for an answer: null for no text, undefined when no code fits. */
export function codeOf(text: string | null): CodedMessage | null | undefined {
  if (text === null) return null;
  return parseMessage(text) ?? undefined;
}

// Validation problems: one per mistake, each with the path of the offending field (and, for
// a file, its line), worded as one sentence a user can act on.
import { z } from 'zod';

export type PathSegment = string | number;

export interface Problem {
  /** Path into the document, e.g. `sites[0].origins[1].host`. */
  path: string;
  /** The same path as segments, for tools. */
  segments: PathSegment[];
  message: string;
  /**
   * The kind of mistake, stable (one of PROBLEM_CODES: zod's generic checks and the SENTENCES
   * of the schemas); `params` are the values its English `message` was worded with. The web UI
   * translates a problem from these (`problems.<code>` in its catalogues); the CLI prints
   * `message`. Only a zod message that is no sentence of ours leaves it out (i18n.test.ts fails
   * when the spec makes one).
   */
  code?: ProblemCode;
  params?: Record<string, string>;
  /** 1-based line and column in the source file, when the input was a file. */
  line?: number;
  column?: number;
}

export function formatPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else out += out === '' ? s : `.${s}`;
  }
  return out === '' ? '(document)' : out;
}

/** A problem worded by a sentence of SENTENCES: its code and values go with it. */
export function problem(segments: PathSegment[], s: Said): Problem {
  return coded(segments, s.code, s.params, s.message);
}

/**
 * A problem of a zod message that is no sentence of ours (a schema outside SENTENCES): it has
 * no code, and the UI shows its English. i18n.test.ts fails when the spec makes one.
 */
function uncoded(segments: PathSegment[], message: string): Problem {
  return { path: escapeControl(formatPath(segments)), segments, message: escapeControl(message) };
}

/** Bounds of a size check, as a code suffix (`number_at_most`). */
const LIMITS = ['at_least', 'at_most', 'exactly', 'more_than', 'less_than'] as const;
type Limit = (typeof LIMITS)[number];
const SIZED = ['entries', 'length', 'number'] as const;

// ---- issue 22: the schema's own sentences, each with a stable code (w5-codes) ----
/** A sentence's English wording: `{{name}}` is a value; `one`/`other` by `{{count}}`. */
type Template = string | { readonly one: string; readonly other: string };

/**
 * Every sentence a schema or a whole-document rule words a problem with, by its stable code.
 * The English text is exactly what the API and the CLI say (the UI's English catalogue is made
 * from this table: web/app/i18n/catalogue.ts); the web UI translates a problem from its code and
 * values. A new sentence goes here, and its translation into zh-CN.ts (`problems.<code>`).
 */
export const SENTENCES = {
  // Hostnames (primitives.ts hostnameProblem): the value is named first.
  hostname_empty: '"{{value}}" must not be empty',
  hostname_ip_address:
    '"{{value}}" is an IP address, not a hostname (write addresses as {v4: …, v6: …})',
  hostname_bad_char: '"{{value}}" contains {{char}}, which is not allowed in a hostname',
  hostname_uppercase: '"{{value}}" must be lowercase',
  hostname_too_long: '"{{value}}" is longer than 253 characters',
  hostname_one_label: '"{{value}}" must have at least two labels (like example.com)',
  hostname_bad_label: '"{{value}}" has an invalid label "{{label}}"',
  hostname_numeric_tld: '"{{value}}" must not end in a numeric label',
  // Addresses and networks.
  not_ipv4: '"{{value}}" is not an IPv4 address',
  not_ipv6: '"{{value}}" is not an IPv6 address',
  ipv6_zone_id:
    '"{{value}}" has an IPv6 zone id (%…), which nginx does not accept: write the address alone',
  not_cidr: '"{{value}}" is not an IP address or network like 10.0.0.0/8 or 2001:db8::/32',
  not_client_ip:
    '"{{value}}" is not an IP address, a network like 10.0.0.0/8 or 2001:db8::/32, or an "@list" reference',
  not_list_reference:
    '"{{value}}" is not a list reference: "@" and a list name of lowercase letters, digits or "-"',
  ip_list_zone_id: 'has an IPv6 zone id (%…), which nginx does not accept',
  host_addresses_none: 'needs at least one address: v4 or v6',
  ip_address_format: 'must be an IPv4 or IPv6 address',
  ip_port_format: 'must be "ip:port"',
  // Names and formats of values.
  name_format: 'must be 1-63 lowercase letters, digits or "-", not starting or ending with "-"',
  secret_ref_format:
    'must be a reference like "env:NAME" or "file:/path/to/secret", never the secret itself',
  path_glob_format: 'must start with "/" and use only URL path characters and "*"',
  path_glob_encoded_control:
    'contains "{{encoded}}", {{char}} percent-encoded, which is not allowed in a path glob',
  extension_format: 'must be 1-16 lowercase letters or digits, without the dot',
  header_name_format: 'must be letters, digits and "-"',
  header_framing:
    '"{{value}}" is a framing or hop-by-hop header, which a modifier must not set (it could desync clients)',
  header_outpost:
    '"{{value}}" is one of Outpost\'s own headers (X-Outpost-*), which a modifier must not set',
  header_value_bad_char: 'contains {{char}}, which is not allowed in a header value',
  bad_char: 'contains {{char}}',
  url_template_placeholder: 'has an unknown placeholder "{{placeholder}}"; use one of {{options}}',
  url_template_unmatched_brace: 'has an unmatched "}"',
  url_template_start: 'must start with "http://", "https://", "{scheme}://" or "/"',
  not_url: '"{{value}}" is not a URL',
  http_url_scheme: 'must be an http:// or https:// URL',
  pem_certificates: 'must be one or more PEM certificates ("-----BEGIN CERTIFICATE-----" …)',
  pem_certificate: 'must be a PEM certificate',
  query_param_name_format: 'must be 1-64 letters, digits or "_"',
  country_code_format: 'must be an ISO 3166 alpha-2 code like "HK" (two capital letters)',
  country_code_unassigned:
    '"{{value}}" is not an assigned ISO 3166 alpha-2 country code (continents are the continents field)',
  edge_selector_format: 'must be an edge name, "tag:NAME" or "*"',
  network_line_unknown: 'unknown line "{{value}}"; known lines: {{options}}',
  content_type_format:
    'must be a lowercase media type like "text/html" or "image/*", without parameters',
  text_format: 'must be 1-100 letters, digits, spaces or _.:/-',
  powerdns_server_id: 'must be letters, digits or _.- (PowerDNS server id)',
  path_start: 'must start with "/"',
  cache_tag_format: 'must be 1-128 letters, digits or . _ : / @ + = -',
  log_status_format: 'must be a status (404), a class (5xx) or several with commas (404,5xx)',
  email_format: 'must be an email address',
  credential_name_format: 'must be 1-63 of a-z, 0-9, ".", "_", "-"',
  password_too_short: 'must be at least 12 characters',
  // Matchers and their patterns (protect.ts).
  empty: 'must not be empty',
  env_placeholder: 'contains "{$", which Caddy would read as an environment variable',
  match_text_control: 'contains {{char}}, which no request header or query value can hold',
  match_header_name_format:
    'must be 1-64 letters, digits or "-" (header token characters nginx can name)',
  needs_one_of: 'needs one of {{options}}',
  only_one_of: 'has {{fields}}: set only one of {{options}}',
  request_rate_format: 'must be requests per second or minute like "10r/s" or "100r/m"',
  rate_limit_key_format:
    '"{{value}}" must be "ip" or "header:NAME" with a header name of letters, digits or "-"',
  regex_too_long: 'is longer than 512 characters',
  regex_control: 'contains {{char}}, which a pattern must not',
  regex_lone_backslash: 'ends with a lone "\\" (it would escape what follows)',
  regex_quoting:
    'uses "\\{{letter}}" quoting, which is not allowed (escape each character instead)',
  regex_unclosed_class_name: 'has an unclosed "[:" class name',
  regex_verb: 'uses a PCRE verb "(*…)", which is not allowed',
  regex_callout: 'uses a PCRE callout "(?C…)", which is not allowed',
  regex_unclosed_comment: 'has an unclosed "(?#" comment',
  regex_x_flag: 'uses the "x" flag, which is not allowed ("#" would comment out the rest)',
  regex_unopened_group: 'has a ")" without its "("',
  regex_unclosed_class: 'has a "[" without its "]"',
  regex_unclosed_group: 'has a "(" without its ")"',
  // Cache rules, origins, access rules, rate limits (schema.ts).
  cache_option_bypass: 'only a rule with action "cache" can set {{option}}',
  cache_force_ttl: 'needs a ttl: force applies the ttl whatever the origin says',
  cache_slice_statuses:
    'cannot be combined with slice: a sliced object is stored as the 206 answers of its slices',
  cache_answer_match:
    'cannot be combined with statuses or content_types in one cache rule: the answer is matched on the method and path only (split it into two rules)',
  origins_none: 'a site needs at least one origin',
  origins_differ:
    'must be the same for every origin of a site (origins[0] has {{first}}): nginx applies it to the whole upstream group',
  origins_tls_ca:
    'must be set on every HTTPS origin of a site or on none: nginx verifies the whole upstream group against one set of CAs',
  access_redirect_target: 'a redirect rule needs a target',
  access_redirect_status: 'is {{status}}; a redirect answers 301, 302, 307 or 308',
  access_target_not_redirect: 'only a redirect rule has a target, not {{action}}',
  access_allow_status: 'an allow rule has no status: the request is served',
  access_deny_status: 'is {{status}}; a deny rule answers a 4xx status',
  rate_limit_delay:
    'is {{delay}}, more than burst ({{burst}}): only requests within the burst can be delayed',
  rate_limit_duplicate: 'duplicate rate limit name "{{name}}" (also rate_limits[{{first}}])',
  rate_limit_status:
    'is {{status}}, but rate_limits[0] answers {{first}}: nginx answers one status for all the limits of a site',
  // Rules across entries (validate.ts, validate-protect.ts).
  duplicate_edge: 'duplicate edge name "{{name}}" (also edges[{{first}}])',
  unknown_tag: 'no edge has the tag "{{tag}}"',
  unknown_edge: 'unknown edge "{{edge}}"',
  already_served: '"{{name}}" is already served by {{owner}}',
  gcore_timeout: 'is {{timeout}}; GCore health checks allow at most {{max}} seconds',
  ip_list_unknown: 'names the IP list "{{list}}", which ip_lists does not define',
  // What Caddy 2.6 edges cannot do (edge-capabilities.ts, caddy-capabilities.ts).
  caddy_waf: {
    one: 'is on, but the site is served by Caddy edge {{names}}, which cannot run the WAF (OWASP CRS on ModSecurity is nginx only; docs/proxies.md): serve the site from nginx edges, or turn the WAF off there (waf.overrides)',
    other:
      'is on, but the site is served by Caddy edges {{names}}, which cannot run the WAF (OWASP CRS on ModSecurity is nginx only; docs/proxies.md): serve the site from nginx edges, or turn the WAF off there (waf.overrides)',
  },
  caddy_geo_country: {
    one: "needs the client's country from the edge's country data, which Caddy edge {{names}} cannot look up (docs/proxies.md)",
    other:
      "needs the client's country from the edge's country data, which Caddy edges {{names}} cannot look up (docs/proxies.md)",
  },
  caddy_geo_asn: {
    one: "needs the client's ASN from the edge's country data, which Caddy edge {{names}} cannot look up (docs/proxies.md)",
    other:
      "needs the client's ASN from the edge's country data, which Caddy edges {{names}} cannot look up (docs/proxies.md)",
  },
  caddy_client_ips_behind_proxy:
    'cannot be matched on the Caddy edge "{{edge}}": it has real_ip_from, and Caddy 2.6 has no trusted proxies for matchers (remote_ip sees the proxy\'s address; its "forwarded" option would trust any client\'s X-Forwarded-For); see docs/proxies.md',
  caddy_regex_lookaround: {
    one: 'uses lookaround, which Caddy (Go RE2) does not support, and the site is served by the Caddy edge {{names}}',
    other:
      'uses lookaround, which Caddy (Go RE2) does not support, and the site is served by the Caddy edges {{names}}',
  },
  caddy_regex_atomic: {
    one: 'uses an atomic group, which Caddy (Go RE2) does not support, and the site is served by the Caddy edge {{names}}',
    other:
      'uses an atomic group, which Caddy (Go RE2) does not support, and the site is served by the Caddy edges {{names}}',
  },
  caddy_regex_backreference: {
    one: 'uses a backreference, which Caddy (Go RE2) does not support, and the site is served by the Caddy edge {{names}}',
    other:
      'uses a backreference, which Caddy (Go RE2) does not support, and the site is served by the Caddy edges {{names}}',
  },
  caddy_regex_possessive: {
    one: 'uses a possessive quantifier, which Caddy (Go RE2) does not support, and the site is served by the Caddy edge {{names}}',
    other:
      'uses a possessive quantifier, which Caddy (Go RE2) does not support, and the site is served by the Caddy edges {{names}}',
  },
  caddy_regex_named_group: {
    one: 'uses a named group "(?<name>…)", which Caddy 2.6 (Go RE2) does not accept: write "(?P<name>…)", and the site is served by the Caddy edge {{names}}',
    other:
      'uses a named group "(?<name>…)", which Caddy 2.6 (Go RE2) does not accept: write "(?P<name>…)", and the site is served by the Caddy edges {{names}}',
  },
  caddy_query_regex: {
    one: "cannot be matched by the Caddy edge {{names}}: Caddy 2.6 has no matcher for one query parameter's value pattern (exact, prefix and present are rendered); see docs/proxies.md",
    other:
      "cannot be matched by the Caddy edges {{names}}: Caddy 2.6 has no matcher for one query parameter's value pattern (exact, prefix and present are rendered); see docs/proxies.md",
  },
  caddy_rate_limits: {
    one: "cannot be applied by Caddy 2.6 (it has no rate limiter; the rate_limit plugin is not in Debian's package), and this site is served by the Caddy edge {{names}}; see docs/proxies.md",
    other:
      "cannot be applied by Caddy 2.6 (it has no rate limiter; the rate_limit plugin is not in Debian's package), and this site is served by the Caddy edges {{names}}; see docs/proxies.md",
  },
  caddy_body_env: {
    one: 'contains "{$", which Caddy would read as an environment variable, and this site is served by the Caddy edge {{names}}',
    other:
      'contains "{$", which Caddy would read as an environment variable, and this site is served by the Caddy edges {{names}}',
  },
  caddy_body_brace: {
    one: 'is only "}", which ends a Caddyfile snippet in Caddy 2.6 even when quoted, and this site is served by the Caddy edge {{names}}',
    other:
      'is only "}", which ends a Caddyfile snippet in Caddy 2.6 even when quoted, and this site is served by the Caddy edges {{names}}',
  },
  caddy_body_quotes: {
    one: 'has a backquote and a backslash before a quote (or at its end), which no Caddyfile token can hold, and this site is served by the Caddy edge {{names}}',
    other:
      'has a backquote and a backslash before a quote (or at its end), which no Caddyfile token can hold, and this site is served by the Caddy edges {{names}}',
  },
  // Notification channels (notify.ts).
  addresses_none: 'needs at least one address',
  channel_secret_missing: 'a {{type}} channel needs a secret ({{what}})',
  slack_secret_url: 'the secret of a slack channel is its webhook URL (https://…)',
  smtp_login_pair: 'an SMTP login needs both settings.user and the secret (its password)',
  webhook_secret_short: 'a webhook signing secret must be at least 16 characters',
  // Tokens and users (api.ts).
  scopes_none: 'needs at least one scope',
  // The document itself (file.ts; state/routes.ts).
  yaml_syntax: 'YAML syntax: {{detail}}',
  yaml_alias_bomb:
    'YAML: too many alias references (more than 100 expansions of &anchors): refusing a document that expands without bound',
  yaml_or_spec: 'give exactly one of "yaml" or "spec"',
  // zod's own checks without a sentence of ours.
  invalid_format: 'is not a valid {{format}}',
  invalid_date: 'is not a valid date',
  not_multiple_of: 'must be a multiple of {{multiple}}',
  not_finite: 'must be a finite number',
} as const satisfies Record<string, Template>;
export type SentenceCode = keyof typeof SENTENCES;

/** Codes whose sentence has no values: they can be a zod message as they are (`.regex(re, …)`). */
export type FixedSentenceCode = {
  [K in SentenceCode]: (typeof SENTENCES)[K] extends `${string}{{${string}` ? never : K;
}[SentenceCode];

/** A sentence of SENTENCES with its values, and its English wording. */
export interface Said {
  readonly code: SentenceCode;
  readonly params: Record<string, string>;
  readonly message: string;
}

/** The sentence `code` worded with `params` (the English the API and the CLI show). */
export function said(code: SentenceCode, params: Record<string, string | number> = {}): Said {
  const values = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)]));
  const t: Template = SENTENCES[code];
  const template = typeof t === 'string' ? t : values.count === '1' ? t.one : t.other;
  const message = template.replace(/\{\{(\w+)\}\}/g, (m, k: string) => values[k] ?? m);
  return { code, params: values, message };
}

/** A sentence without values, as a zod message (`.regex(re, sentence('name_format'))`). */
export function sentence(code: FixedSentenceCode): string {
  return SENTENCES[code] as string;
}

/** A zod issue worded by a sentence (`ctx.addIssue(issue(said(…)))`, `.refine(f, issue(…))`). */
export function issue(s: Said, path?: PathSegment[]): z.IssueData & { message: string } {
  return {
    code: z.ZodIssueCode.custom,
    message: s.message,
    params: { said: s },
    ...(path === undefined ? {} : { path }),
  };
}

/** zod's `required` wording, for a schema's own `.min(1, REQUIRED)`: its code is `required`. */
export const REQUIRED = 'is required';

/** The fixed sentences by their English text: how a zod message (`.min(1, …)`) finds its code. */
const FIXED = new Map<string, ProblemCode>([
  ...Object.entries(SENTENCES).flatMap(([code, t]) =>
    typeof t === 'string' && !t.includes('{{') ? [[t, code as SentenceCode] as const] : [],
  ),
  [REQUIRED, 'required'],
]);

/** The sentence of a zod issue made by `issue()` or worded by `sentence()`, if it is one. */
function saidOf(
  issue: z.ZodIssue,
): { code: ProblemCode; params: Record<string, string> } | undefined {
  const s: unknown = issue.code === 'custom' ? issue.params?.said : undefined;
  if (s !== undefined && typeof s === 'object' && s !== null && 'code' in s && 'params' in s)
    return s as Said;
  const code = FIXED.get(issue.message);
  return code === undefined ? undefined : { code, params: {} };
}
// ---- end issue 22 sentences ----

/** The generic codes of problemsFromZod (zod's own checks, in the user's terms). */
const GENERIC_CODES = [
  'unknown_key',
  'not_one_of',
  'must_be_one_of',
  'wrong_shape',
  'required',
  'wrong_type',
  'not_literal',
  ...SIZED.flatMap((s) => LIMITS.map((l) => `${s}_${l}` as const)),
] as const;
/** Every code a problem can carry. Stable: the UI's catalogues translate each one (a test
 * checks that they do, and that the spec makes no problem without one). */
export type ProblemCode = (typeof GENERIC_CODES)[number] | SentenceCode;
export const PROBLEM_CODES: readonly ProblemCode[] = [
  ...GENERIC_CODES,
  ...(Object.keys(SENTENCES) as SentenceCode[]),
];

/** A generic problem: its code, and the values its English message was worded with. */
function coded(
  segments: PathSegment[],
  code: ProblemCode,
  params: Record<string, string>,
  message: string,
): Problem {
  const escaped = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, escapeControl(v)]));
  return { ...uncoded(segments, message), code, params: escaped };
}

/**
 * Raw newline, CR, NUL and other control characters of a value never reach a terminal or a
 * log line: they are written as escapes (`\n`, `\r`, `\0`, `\x1b`).
 */
export function escapeControl(text: string): string {
  return text.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, (c) =>
    c === '\n'
      ? '\\n'
      : c === '\r'
        ? '\\r'
        : c === '\0'
          ? '\\0'
          : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

/** One line per problem: `file:line: path: message`. */
export function describeProblem(p: Problem, file?: string): string {
  const where = [file, p.line].filter((x) => x !== undefined).join(':');
  return `${where ? `${where}: ` : ''}${p.path}: ${p.message}`;
}

export class SpecError extends Error {
  readonly code = 'invalid_spec';
  constructor(readonly problems: Problem[]) {
    super(
      problems.length === 1
        ? describeProblem(problems[0] as Problem)
        : `${problems.length} problems: ${problems.map((p) => describeProblem(p)).join('; ')}`,
    );
    this.name = 'SpecError';
  }
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'object') return 'mapping';
  return typeof v;
}

/** Turns zod issues into problems, choosing the most telling branch of unions. */
export function problemsFromZod(error: z.ZodError, input: unknown): Problem[] {
  const out: Problem[] = [];
  const visit = (issue: z.ZodIssue) => {
    const segments = issue.path;
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys) {
          out.push(
            coded(
              [...segments, key],
              'unknown_key',
              { key },
              `unknown key "${key}" (is it a typo?)`,
            ),
          );
        }
        return;
      case 'invalid_union': {
        // Report the branch that matched the input's type (a mapping vs a string), if any.
        const branches = issue.unionErrors.filter(
          (e) =>
            !e.issues.some((i) => i.code === 'invalid_type' && i.path.length === segments.length),
        );
        const literals = literalOptions(issue.unionErrors, segments.length);
        if (branches.length === 1) {
          for (const i of (branches[0] as z.ZodError).issues) visit(i);
        } else if (literals) {
          const value = String(JSON.stringify(valueAt(input, segments)));
          const options = literals.join(', ');
          out.push(
            coded(
              segments,
              'not_one_of',
              { value, options },
              `is ${value}; must be one of ${options}`,
            ),
          );
        } else {
          const got = typeName(valueAt(input, segments));
          out.push(coded(segments, 'wrong_shape', { got }, `has the wrong shape (got ${got})`));
        }
        return;
      }
      case 'invalid_union_discriminator': {
        const options = issue.options.map((o) => JSON.stringify(o)).join(', ');
        out.push(coded(segments, 'must_be_one_of', { options }, `must be one of ${options}`));
        return;
      }
      case 'invalid_type':
        if (issue.received === 'undefined') {
          out.push(coded(segments, 'required', {}, 'is required'));
        } else {
          const expected = article(issue.expected);
          const got = typeName(valueAt(input, segments));
          out.push(
            coded(segments, 'wrong_type', { expected, got }, `must be ${expected}, not ${got}`),
          );
        }
        return;
      case 'invalid_enum_value': {
        const value = `"${String(issue.received)}"`;
        const options = issue.options.map((o) => `"${String(o)}"`).join(', ');
        out.push(
          coded(
            segments,
            'not_one_of',
            { value, options },
            `is ${value}; must be one of ${options}`,
          ),
        );
        return;
      }
      case 'invalid_literal': {
        const value = String(JSON.stringify(valueAt(input, segments)));
        const expected = String(JSON.stringify(issue.expected));
        out.push(
          coded(segments, 'not_literal', { value, expected }, `is ${value}; must be ${expected}`),
        );
        return;
      }
      case 'too_small':
      case 'too_big':
        // A schema's own wording (`.min(1, '...')`) wins over the generic one.
        out.push(
          issue.message === zodDefaultMessage(issue)
            ? sizeProblem(segments, issue, valueAt(input, segments))
            : ourSentence(segments, issue),
        );
        return;
      case 'invalid_string':
        if (issue.message !== zodDefaultMessage(issue)) out.push(ourSentence(segments, issue));
        else {
          const format = typeof issue.validation === 'string' ? issue.validation : 'value';
          out.push(problem(segments, said('invalid_format', { format })));
        }
        return;
      case 'invalid_date':
        out.push(problem(segments, said('invalid_date')));
        return;
      case 'not_multiple_of':
        out.push(
          problem(segments, said('not_multiple_of', { multiple: String(issue.multipleOf) })),
        );
        return;
      case 'not_finite':
        out.push(problem(segments, said('not_finite')));
        return;
      case 'invalid_intersection_types':
        out.push(
          coded(
            segments,
            'wrong_shape',
            { got: typeName(valueAt(input, segments)) },
            `has the wrong shape (got ${typeName(valueAt(input, segments))})`,
          ),
        );
        return;
      default:
        out.push(ourSentence(segments, issue));
    }
  };
  for (const issue of error.issues) visit(issue);
  return out;
}

/** A problem worded by the schema (a sentence of ours), else the zod message without a code. */
function ourSentence(segments: PathSegment[], issue: z.ZodIssue): Problem {
  const s = saidOf(issue);
  return s === undefined
    ? uncoded(segments, issue.message)
    : coded(segments, s.code, s.params, issue.message);
}

/** The literals a union accepts, when each of its branches is one literal at the same path. */
function literalOptions(branches: z.ZodError[], depth: number): string[] | undefined {
  const options: string[] = [];
  for (const b of branches) {
    const [only, ...rest] = b.issues;
    if (!only || rest.length > 0 || only.code !== 'invalid_literal' || only.path.length !== depth)
      return undefined;
    options.push(JSON.stringify(only.expected));
  }
  return options;
}

function zodDefaultMessage(issue: z.ZodIssue): string {
  return z.defaultErrorMap(issue, { defaultError: '', data: undefined }).message;
}

/** `is 0; must be at least 1`, `must have at most 32 entries`, in the user's terms. */
function sizeProblem(
  segments: PathSegment[],
  issue: z.ZodTooSmallIssue | z.ZodTooBigIssue,
  value: unknown,
): Problem {
  const small = issue.code === 'too_small';
  const bound = String(Number(small ? issue.minimum : issue.maximum));
  const exact = 'exact' in issue && issue.exact === true;
  const limit: Limit = exact
    ? 'exactly'
    : issue.inclusive
      ? small
        ? 'at_least'
        : 'at_most'
      : small
        ? 'more_than'
        : 'less_than';
  const words = limit.replace('_', ' ');
  switch (issue.type) {
    case 'array':
    case 'set': {
      const actual = Array.isArray(value) ? String(value.length) : 'the wrong number of';
      return coded(
        segments,
        `entries_${limit}`,
        { actual, bound },
        `has ${actual} entries; must have ${words} ${bound}`,
      );
    }
    case 'string': {
      const actual = typeof value === 'string' ? String(value.length) : 'the wrong number of';
      return coded(
        segments,
        `length_${limit}`,
        { actual, bound },
        `is ${actual} characters long; must be ${words} ${bound}`,
      );
    }
    default: {
      const actual = String(value);
      return coded(
        segments,
        `number_${limit}`,
        { actual, bound },
        `is ${actual}; must be ${words} ${bound}`,
      );
    }
  }
}

function article(expected: string): string {
  switch (expected) {
    case 'object':
      return 'a mapping';
    case 'array':
      return 'a list';
    case 'integer':
      return 'an integer';
    default:
      return `a ${expected}`;
  }
}

export function valueAt(input: unknown, segments: readonly PathSegment[]): unknown {
  let cur: unknown = input;
  for (const s of segments) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[s];
  }
  return cur;
}

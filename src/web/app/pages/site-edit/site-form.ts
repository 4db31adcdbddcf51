// A site as the form edits it (strings for text boxes, booleans for checkboxes) and back.
// The form checks nothing itself: the API validates with the spec's zod schemas, and its
// problems (paths like `origins[0].host.v4`) are shown beside the field with that path.
// A new site starts from the spec's defaults (../../defaults.ts), not from copies of them.
import type { Site } from '../../api/types.js';
import { numberOrText, splitList } from '../../components/form-text.js';
import {
  emptyNetworks,
  networksForm,
  networksValue,
  type NetworksForm,
} from '../../components/NetworksFields.js';
import { SPEC_DEFAULTS } from '../../defaults.js';

export interface MatcherForm {
  paths: string;
  extensions: string;
  methods: string;
  /** Client addresses, networks or @lists (issue 16). */
  client_ips: string;
  /** Matcher fields this form does not edit (statuses, content_types, …). */
  extra?: Record<string, unknown>;
}

export interface OriginForm {
  kind: 'address' | 'hostname';
  v4: string;
  v6: string;
  hostname: string;
  port: string;
  protocol: 'http' | 'https';
  tls_server_name: string;
  verify_tls: boolean;
  tls_ca: string;
  weight: string;
  backup: boolean;
}

export interface CacheRuleForm {
  match: MatcherForm;
  action: 'cache' | 'bypass';
  ttl: string;
  /** Fields of the rule this form does not edit (force, browser_ttl, key, …), kept as they are. */
  extra?: Record<string, unknown>;
}

export const MODIFIER_TYPES = [
  'redirect',
  'deny',
  'set_header',
  'bypass_cache',
  'cache_ttl',
] as const;
export type ModifierType = (typeof MODIFIER_TYPES)[number];

export interface ModifierForm {
  name: string;
  edges: string;
  match: MatcherForm;
  type: ModifierType;
  status: string;
  target: string;
  header_name: string;
  header_value: string;
  ttl: string;
}

// ---- issue 16 (protect): access rules, rate limits, the WAF ----
export const ACCESS_ACTIONS = ['allow', 'deny', 'redirect'] as const;

export interface AccessRuleForm {
  name: string;
  edges: string;
  match: MatcherForm;
  action: (typeof ACCESS_ACTIONS)[number];
  status: string;
  target: string;
}

/** The site's `access` without its rules (they are the form's `access_rules` rows). */
export interface AccessForm {
  /** Off: the site has no `access` (everyone is served). */
  enabled: boolean;
  default: 'allow' | 'deny';
  status: string;
  body: string;
}

export interface RateLimitForm {
  name: string;
  edges: string;
  match: MatcherForm;
  key: string;
  rate: string;
  burst: string;
  delay: string;
  status: string;
}

/** The WAF fields the form edits; exclusions and overrides are kept as they are (`extra`). */
export interface WafForm {
  /** The site has a `waf` block (on or off). */
  defined: boolean;
  enabled: boolean;
  mode: 'detect' | 'block';
  paranoia: string;
  inbound: string;
  outbound: string;
  request_body_limit: string;
  extra?: Record<string, unknown>;
}
/** A named IP list of the whole state (`ip_lists`), shared by every site that names it. */
export interface IpListForm {
  name: string;
  networks: string;
}
// ---- end issue 16 ----

/** Issue 22: one entry of the site's `networks`: for the edges selected, their networks here. */
export interface SiteNetworksForm {
  edges: string;
  networks: NetworksForm;
}

export const emptySiteNetworks = (): SiteNetworksForm => ({ edges: '', networks: emptyNetworks() });

export interface SiteForm {
  /** Fields of the site and of its cache policy this form does not edit, kept as they are. */
  extra?: { site: Record<string, unknown>; cache: Record<string, unknown> };
  domain: string;
  aliases: string;
  origins: OriginForm[];
  edges: string;
  rules: CacheRuleForm[];
  stale_if_error: boolean;
  stale_while_updating: boolean;
  modifiers: ModifierForm[];
  health_check: boolean;
  hc_uri: string;
  hc_frequency: string;
  hc_timeout: string;
  dns_ttl: string;
  redirect_http: boolean;
  hsts: boolean;
  hsts_max_age: string;
  hsts_include_subdomains: boolean;
  hsts_preload: boolean;
  raw_nginx: string;
  access: AccessForm;
  access_rules: AccessRuleForm[];
  rate_limits: RateLimitForm[];
  waf: WafForm;
  /** The state's named IP lists as rows (saved with the whole state when they change). */
  ip_lists: IpListForm[];
  /** The lists as loaded; null until the state is read (the section is hidden until then). */
  ip_lists_before: Record<string, string[]> | null;
  /** Issue 22: the site's `networks` entries (none: the edges' own networks). */
  networks: SiteNetworksForm[];
}

export const emptyMatcher = (): MatcherForm => ({
  paths: '',
  extensions: '',
  methods: '',
  client_ips: '',
});

const list = (xs: readonly (string | number)[] | undefined) => (xs ?? []).join(', ');
const str = (v: string | number | undefined | null) =>
  v === undefined || v === null ? '' : String(v);

const { origin: ORIGIN, health_check: HEALTH_CHECK, hsts: HSTS } = SPEC_DEFAULTS;

export const emptyOrigin = (): OriginForm => ({
  kind: 'address',
  v4: '',
  v6: '',
  hostname: '',
  port: '',
  protocol: ORIGIN.protocol,
  tls_server_name: '',
  verify_tls: ORIGIN.verify_tls,
  tls_ca: '',
  weight: str(ORIGIN.weight),
  backup: ORIGIN.backup,
});

export const emptyRule = (): CacheRuleForm => ({ match: emptyMatcher(), action: 'cache', ttl: '' });

export const emptyModifier = (): ModifierForm => ({
  name: '',
  edges: '',
  match: emptyMatcher(),
  type: 'redirect',
  status: '',
  target: '',
  header_name: '',
  header_value: '',
  ttl: '',
});

export const emptyAccessRule = (): AccessRuleForm => ({
  name: '',
  edges: '',
  match: emptyMatcher(),
  action: 'deny',
  status: '',
  target: '',
});

export const emptyRateLimit = (): RateLimitForm => ({
  name: '',
  edges: '',
  match: emptyMatcher(),
  key: '',
  rate: '',
  burst: '',
  delay: '',
  status: '',
});

const noAccess = (): AccessForm => ({ enabled: false, default: 'allow', status: '', body: '' });
const noWaf = (): WafForm => ({
  defined: false,
  enabled: false,
  mode: 'detect',
  paranoia: '',
  inbound: '',
  outbound: '',
  request_body_limit: '',
});

/** A new site: the defaults the spec fills in, as the form shows them (domain and origin empty). */
export function newSiteForm(): SiteForm {
  const site = SPEC_DEFAULTS.site;
  return {
    domain: '',
    aliases: list(site.aliases),
    origins: [emptyOrigin()],
    edges: list(site.edges),
    rules: site.cache.rules.map(ruleForm),
    stale_if_error: site.cache.stale_if_error,
    stale_while_updating: site.cache.stale_while_updating,
    modifiers: [],
    health_check: false,
    hc_uri: '',
    hc_frequency: str(HEALTH_CHECK.frequency),
    hc_timeout: str(HEALTH_CHECK.timeout),
    dns_ttl: str(site.dns_ttl),
    redirect_http: site.https.redirect_http,
    hsts: site.https.hsts !== false,
    hsts_max_age: str(HSTS.max_age),
    hsts_include_subdomains: HSTS.include_subdomains,
    hsts_preload: HSTS.preload,
    raw_nginx: '',
    access: noAccess(),
    access_rules: [],
    rate_limits: [],
    waf: noWaf(),
    ip_lists: [],
    ip_lists_before: null,
    networks: [],
  };
}

/** The fields of `o` other than `known`: what the form carries through untouched. */
function others(o: object, known: readonly string[]): Record<string, unknown> | undefined {
  const rest = Object.fromEntries(Object.entries(o).filter(([k]) => !known.includes(k)));
  return Object.keys(rest).length > 0 ? rest : undefined;
}

const SITE_KEYS = [
  'domain',
  'aliases',
  'origins',
  'edges',
  'cache',
  'modifiers',
  'health_check',
  'dns_ttl',
  'https',
  'raw_nginx',
  'access',
  'rate_limits',
  'waf',
  'networks',
];
const CACHE_KEYS = ['rules', 'stale_if_error', 'stale_while_updating'];
const RULE_KEYS = ['match', 'action', 'ttl'];
const MATCHER_KEYS = ['paths', 'extensions', 'methods', 'client_ips'];
const WAF_KEYS = ['enabled', 'mode', 'paranoia', 'anomaly_threshold', 'request_body_limit'];

function matcherForm(m: {
  paths?: string[];
  extensions?: string[];
  methods?: string[];
  client_ips?: string[];
}): MatcherForm {
  const extra = others(m, MATCHER_KEYS);
  return {
    paths: list(m.paths),
    extensions: list(m.extensions),
    methods: list(m.methods),
    client_ips: list(m.client_ips),
    ...(extra ? { extra } : {}),
  };
}

function protectForm(
  site: Site,
): Pick<SiteForm, 'access' | 'access_rules' | 'rate_limits' | 'waf'> {
  const a = site.access;
  const w = site.waf;
  const wafExtra = w === undefined ? undefined : others(w, WAF_KEYS);
  return {
    access:
      a === undefined
        ? noAccess()
        : { enabled: true, default: a.default, status: str(a.status), body: str(a.body) },
    access_rules: (a?.rules ?? []).map((r) => ({
      name: str(r.name),
      edges: list(r.edges),
      match: matcherForm(r.match),
      action: r.action,
      status: str(r.status),
      target: str(r.target),
    })),
    rate_limits: (site.rate_limits ?? []).map((l) => ({
      name: l.name,
      edges: list(l.edges),
      match: matcherForm(l.match ?? {}),
      key: l.key,
      rate: l.rate,
      burst: str(l.burst),
      delay: str(l.delay),
      status: str(l.status),
    })),
    waf:
      w === undefined
        ? noWaf()
        : {
            defined: true,
            enabled: w.enabled,
            mode: w.mode,
            paranoia: str(w.paranoia),
            inbound: str(w.anomaly_threshold.inbound),
            outbound: str(w.anomaly_threshold.outbound),
            request_body_limit: str(w.request_body_limit),
            ...(wafExtra ? { extra: wafExtra } : {}),
          },
  };
}

function ruleForm(r: Site['cache']['rules'][number]): CacheRuleForm {
  const extra = others(r, RULE_KEYS);
  return {
    match: matcherForm(r.match),
    action: r.action,
    ttl: str(r.ttl),
    ...(extra ? { extra } : {}),
  };
}

export function siteToForm(site: Site): SiteForm {
  const hsts = site.https.hsts;
  return {
    extra: { site: others(site, SITE_KEYS) ?? {}, cache: others(site.cache, CACHE_KEYS) ?? {} },
    domain: site.domain,
    aliases: list(site.aliases),
    origins: site.origins.map((o) => ({
      kind: typeof o.host === 'string' ? 'hostname' : 'address',
      v4: typeof o.host === 'string' ? '' : str(o.host.v4),
      v6: typeof o.host === 'string' ? '' : str(o.host.v6),
      hostname: typeof o.host === 'string' ? o.host : '',
      port: str(o.port),
      protocol: o.protocol,
      tls_server_name: str(o.tls_server_name),
      verify_tls: o.verify_tls,
      tls_ca: str(o.tls_ca),
      weight: str(o.weight),
      backup: o.backup,
    })),
    edges: list(site.edges),
    rules: site.cache.rules.map(ruleForm),
    stale_if_error: site.cache.stale_if_error,
    stale_while_updating: site.cache.stale_while_updating,
    modifiers: site.modifiers.map((m) => {
      const a = m.action;
      return {
        name: str(m.name),
        edges: list(m.edges),
        match: matcherForm(m.match),
        type: a.type,
        status: 'status' in a ? str(a.status) : '',
        target: a.type === 'redirect' ? a.target : '',
        header_name: a.type === 'set_header' ? a.name : '',
        header_value: a.type === 'set_header' ? a.value : '',
        ttl: a.type === 'cache_ttl' ? str(a.ttl) : '',
      };
    }),
    health_check: site.health_check !== undefined,
    hc_uri: str(site.health_check?.uri),
    hc_frequency: str(site.health_check?.frequency ?? HEALTH_CHECK.frequency),
    hc_timeout: str(site.health_check?.timeout ?? HEALTH_CHECK.timeout),
    dns_ttl: str(site.dns_ttl),
    redirect_http: site.https.redirect_http,
    hsts: hsts !== false,
    hsts_max_age: str(hsts === false ? HSTS.max_age : hsts.max_age),
    hsts_include_subdomains: hsts !== false && hsts.include_subdomains,
    hsts_preload: hsts !== false && hsts.preload,
    raw_nginx: str(site.raw_nginx),
    ...protectForm(site),
    networks: (site.networks ?? []).map((n) => ({
      edges: list(n.edges),
      networks: networksForm(n),
    })),
    ip_lists: [],
    ip_lists_before: null,
  };
}

export const emptyIpList = (): IpListForm => ({ name: '', networks: '' });

/** The state's `ip_lists` as rows. */
export function ipListRows(lists: Record<string, string[]>): IpListForm[] {
  return Object.entries(lists).map(([name, nets]) => ({ name, networks: nets.join('\n') }));
}

/** The rows as the state's `ip_lists` (unchecked: the API validates names and networks). */
export function ipListsOf(rows: readonly IpListForm[]): Record<string, string[]> {
  return Object.fromEntries(rows.map((r) => [r.name.trim(), splitList(r.networks)]));
}

/** Did the form change the state's named lists? (false until they are loaded) */
export function ipListsChanged(f: SiteForm): boolean {
  return (
    f.ip_lists_before !== null &&
    JSON.stringify(ipListsOf(f.ip_lists)) !== JSON.stringify(f.ip_lists_before)
  );
}

/** "a, b c" → ["a", "b", "c"]; empty → undefined (the field is left out). */
function split(s: string): string[] | undefined {
  const xs = splitList(s);
  return xs.length > 0 ? xs : undefined;
}

const num = numberOrText;

function text(s: string): string | undefined {
  const t = s.trim();
  return t === '' ? undefined : t;
}

function prune<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function matcher(m: MatcherForm): Record<string, unknown> {
  return prune({
    ...m.extra,
    paths: split(m.paths),
    extensions: split(m.extensions),
    methods: split(m.methods)?.map((x) => x.toUpperCase()),
    client_ips: split(m.client_ips),
  });
}

/** access, rate_limits and waf as the API takes them (absent when the form has none). */
function protectToSite(f: SiteForm): Record<string, unknown> {
  const limits = f.rate_limits.map((l) => {
    const match = matcher(l.match);
    return prune({
      name: l.name.trim(),
      edges: split(l.edges),
      match: Object.keys(match).length > 0 ? match : undefined,
      key: text(l.key),
      rate: l.rate.trim(),
      burst: num(l.burst),
      delay: num(l.delay),
      status: num(l.status),
    });
  });
  const w = f.waf;
  return prune({
    access: f.access.enabled
      ? prune({
          default: f.access.default,
          status: num(f.access.status),
          body: f.access.body === '' ? undefined : f.access.body,
          rules: f.access_rules.map((r) =>
            prune({
              name: text(r.name),
              edges: split(r.edges),
              match: matcher(r.match),
              action: r.action,
              status: num(r.status),
              target: text(r.target),
            }),
          ),
        })
      : undefined,
    rate_limits: limits.length > 0 ? limits : undefined,
    waf:
      w.defined || w.enabled
        ? prune({
            ...w.extra,
            enabled: w.enabled,
            mode: w.mode,
            paranoia: num(w.paranoia),
            anomaly_threshold: prune({ inbound: num(w.inbound), outbound: num(w.outbound) }),
            request_body_limit: num(w.request_body_limit),
          })
        : undefined,
  });
}

/** The site as the API takes it (a SiteInput; unchecked: the API validates). */
export function formToSite(f: SiteForm): Record<string, unknown> {
  return prune({
    ...f.extra?.site,
    domain: f.domain.trim(),
    aliases: split(f.aliases) ?? [],
    origins: f.origins.map((o) =>
      prune({
        host: o.kind === 'hostname' ? o.hostname.trim() : prune({ v4: text(o.v4), v6: text(o.v6) }),
        port: num(o.port),
        protocol: o.protocol,
        tls_server_name: text(o.tls_server_name),
        verify_tls: o.verify_tls,
        tls_ca: o.tls_ca.trim() === '' ? undefined : o.tls_ca,
        weight: num(o.weight),
        backup: o.backup,
      }),
    ),
    edges: split(f.edges) ?? [],
    cache: {
      ...f.extra?.cache,
      rules: f.rules.map((r) =>
        prune({ ...r.extra, match: matcher(r.match), action: r.action, ttl: num(r.ttl) }),
      ),
      stale_if_error: f.stale_if_error,
      stale_while_updating: f.stale_while_updating,
    },
    modifiers: f.modifiers.map((m) => {
      let action: Record<string, unknown>;
      switch (m.type) {
        case 'redirect':
          action = prune({ type: 'redirect', status: num(m.status), target: m.target.trim() });
          break;
        case 'deny':
          action = prune({ type: 'deny', status: num(m.status) });
          break;
        case 'set_header':
          action = { type: 'set_header', name: m.header_name.trim(), value: m.header_value };
          break;
        case 'cache_ttl':
          action = prune({ type: 'cache_ttl', ttl: num(m.ttl) });
          break;
        default:
          action = { type: m.type };
      }
      return prune({ name: text(m.name), edges: split(m.edges), match: matcher(m.match), action });
    }),
    health_check: f.health_check
      ? prune({ uri: f.hc_uri.trim(), frequency: num(f.hc_frequency), timeout: num(f.hc_timeout) })
      : undefined,
    dns_ttl: num(f.dns_ttl),
    https: {
      redirect_http: f.redirect_http,
      hsts: f.hsts
        ? prune({
            max_age: num(f.hsts_max_age),
            include_subdomains: f.hsts_include_subdomains,
            preload: f.hsts_preload,
          })
        : false,
    },
    raw_nginx: f.raw_nginx.trim() === '' ? undefined : f.raw_nginx,
    ...protectToSite(f),
    networks:
      f.networks.length > 0
        ? f.networks.map((n) => ({ edges: split(n.edges) ?? [], ...networksValue(n.networks) }))
        : undefined,
  });
}

/** A problem of a whole-document dry run (`sites[3].origins[0]…`) as a path in the site. */
export function sitePath(path: string, index: number): string | null {
  const prefix = `sites[${index}]`;
  if (path === prefix) return '(site)';
  if (path.startsWith(`${prefix}.`)) return path.slice(prefix.length + 1);
  return null;
}

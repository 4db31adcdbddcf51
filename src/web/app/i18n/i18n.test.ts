// The UI's catalogues (issue 22): the same keys in English and Chinese (with the same values
// and tags in each), no key unused, no text left in the JSX untranslated, every error code and
// problem code of the API translated, and the English problem texts worded as the API words
// them. Each check is a function tried first on a small broken sample, so it can fail.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import i18next from 'i18next';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ERROR_STATUS } from '../../../http/errors.js';
import * as spec from '../../../spec/index.js';
import {
  MESSAGE_CODES,
  MESSAGE_TEMPLATES,
  coded,
  englishOf,
  type MessageCode,
} from '../../../spec/messages.js';
import {
  PROBLEM_CODES,
  problemsFromZod,
  SENTENCES,
  type Problem,
  type ProblemCode,
} from '../../../spec/problems.js';
import { en } from './en.js';
import { i18n, pickLanguage } from './index.js';
import { codedOf, maybeMessageText, messageText, problemValues } from './messages.js';
import { zhCN } from './zh-CN.js';

const APP = fileURLToPath(new URL('..', import.meta.url));
const PLURAL = /_(zero|one|two|few|many|other)$/;
/** Key families used through a code from the API, not by a literal: checked against the codes. */
const BY_CODE = ['errors.code.', 'problems.', 'messages.'];

type Tree = { readonly [k: string]: string | Tree };

function flatten(tree: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(tree)) {
    const key = prefix === '' ? k : `${prefix}.${k}`;
    if (typeof v === 'string') out.set(key, v);
    else for (const [kk, vv] of flatten(v, key)) out.set(kk, vv);
  }
  return out;
}

const base = (key: string) => key.replace(PLURAL, '');
const values = (text: string) => [...text.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]).sort();
const tags = (text: string) => [...text.matchAll(/<(\w+)>/g)].map((m) => m[1]).sort();

/**
 * What is wrong between the English catalogue and another: a key missing or extra (plural
 * forms aside: English needs _one and _other, Chinese only _other), or a text whose {{values}}
 * or <tags> differ from the English one's.
 */
function catalogueMismatches(source: Tree, other: Tree, forms: string[]): string[] {
  const a = flatten(source);
  const b = flatten(other);
  const out: string[] = [];
  const baseOf = (m: Map<string, string>) => new Set([...m.keys()].map(base));
  const aBase = baseOf(a);
  const bBase = baseOf(b);
  for (const k of aBase) if (!bBase.has(k)) out.push(`missing: ${k}`);
  for (const k of bBase) if (!aBase.has(k)) out.push(`not in English: ${k}`);
  for (const [k, text] of b) {
    const plural = PLURAL.test(k);
    const english = a.get(plural ? `${base(k)}_other` : k) ?? a.get(base(k));
    if (plural && !forms.includes(k.slice(base(k).length + 1)))
      out.push(`plural form not used by this language: ${k}`);
    if (english === undefined) continue;
    if (values(english).join() !== values(text).join())
      out.push(`values differ: ${k} (${values(english).join()} / ${values(text).join()})`);
    if (tags(english).join() !== tags(text).join()) out.push(`tags differ: ${k}`);
  }
  for (const k of [...b.keys()].filter((x) => PLURAL.test(x)).map(base))
    for (const f of forms) if (!b.has(`${k}_${f}`)) out.push(`plural form missing: ${k}_${f}`);
  for (const k of [...a.keys()].filter((x) => PLURAL.test(x)).map(base))
    for (const f of ['one', 'other'])
      if (!a.has(`${k}_${f}`)) out.push(`English plural form missing: ${k}_${f}`);
  return [...new Set(out)];
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name);
    if (d.isDirectory()) return sourceFiles(path);
    if (!/\.tsx?$/.test(d.name) || /\.test\.tsx?$/.test(d.name)) return [];
    if (/i18n\/(en|zh-CN)\.ts$/.test(path)) return [];
    return [path];
  });
}

/** Every quoted string of the sources that looks like a key (`page.key`). */
function literalKeys(sources: string[]): Set<string> {
  const out = new Set<string>();
  for (const text of sources)
    for (const m of text.matchAll(/(['"`])([A-Za-z][\w-]*(?:\.[\w-]+)+)\1/g)) out.add(m[2] ?? '');
  return out;
}

/** Keys of the catalogue no source names (the families used by code aside). */
function unusedKeys(catalogue: Tree, used: Set<string>): string[] {
  return [...new Set([...flatten(catalogue).keys()].map(base))].filter(
    (k) => !used.has(k) && !BY_CODE.some((p) => k.startsWith(p)),
  );
}

/** Key-like literals under a namespace of the catalogue that the catalogue does not have. */
function unknownKeys(catalogue: Tree, used: Set<string>): string[] {
  const keys = new Set([...flatten(catalogue).keys()].map(base));
  const namespaces = new Set(Object.keys(catalogue));
  return [...used].filter((k) => namespaces.has(k.split('.')[0] ?? '') && !keys.has(k));
}

/** Attributes whose text a person reads. */
const TEXT_ATTRS = new Set([
  'title',
  'placeholder',
  'aria-label',
  'alt',
  'label',
  'question',
  'heading',
  'hint',
  'what',
  'columns',
]);
/** Literal words that are the same in every language: HSTS directives, an example tag. */
const ALLOWED = new Set(['includeSubDomains', 'preload', 'shop']);

/**
 * Text a person would read: a word of two letters or more (not a path, a host, a token or an
 * acronym such as TTL or HSTS, which are the same in every language).
 */
function isProse(text: string): boolean {
  const t = text.replace(/\{\{[^}]*\}\}/g, ' ').trim();
  if (t === '' || ALLOWED.has(t)) return false;
  return t
    .split(/\s+/)
    .map((w) => w.replace(/^[("“]+|[)"”,.:;!?…]+$/g, ''))
    .some((w) => /^\p{L}{2,}$/u.test(w) && !/^[A-Z]{2,6}$/.test(w));
}

/** JSX texts, text attributes and string literals shown in JSX that are not translated. */
function untranslatedJsx(file: string, text: string): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TSX);
  const out: string[] = [];
  const report = (node: ts.Node, value: string) => {
    if (!isProse(value)) return;
    const { line } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
    out.push(`${file}:${line + 1}: ${JSON.stringify(value.trim())}`);
  };
  const shown = (e: ts.Expression): void => {
    if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) report(e, e.text);
    else if (ts.isTemplateExpression(e)) {
      report(e, [e.head.text, ...e.templateSpans.map((s) => s.literal.text)].join(' '));
      for (const s of e.templateSpans) shown(s.expression);
    } else if (ts.isConditionalExpression(e)) {
      shown(e.whenTrue);
      shown(e.whenFalse);
    } else if (ts.isBinaryExpression(e)) {
      shown(e.left);
      shown(e.right);
    } else if (ts.isParenthesizedExpression(e) || ts.isAsExpression(e)) shown(e.expression);
    else if (ts.isArrayLiteralExpression(e)) for (const el of e.elements) shown(el);
  };
  const visit = (node: ts.Node): void => {
    if (ts.isJsxText(node)) report(node, node.text);
    else if (ts.isJsxAttribute(node)) {
      const name = node.name.getText(sf);
      const init = node.initializer;
      if (TEXT_ATTRS.has(name) && init) {
        if (ts.isStringLiteral(init)) report(init, init.text);
        else if (ts.isJsxExpression(init) && init.expression) shown(init.expression);
      }
      return; // other attributes (className, data-testid, href, …) are not read as text
    } else if (
      ts.isJsxExpression(node) &&
      node.expression &&
      (ts.isJsxElement(node.parent) || ts.isJsxFragment(node.parent))
    )
      shown(node.expression);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

describe('the catalogues', () => {
  const files = sourceFiles(APP);
  const sources = files.map((f) => readFileSync(f, 'utf8'));
  const used = literalKeys(sources);

  it('finds a key missing, extra, without its plural form or with other values (checked on a sample)', () => {
    const source = { a: { b: 'B {{x}}', c: 'C', n_one: '{{count}} n', n_other: '{{count}} ns' } };
    const other = { a: { b: 'B {{y}}', n_one: 'n', d: 'D' } };
    expect(catalogueMismatches(source, other, ['other'])).toEqual(
      expect.arrayContaining([
        'missing: a.c',
        'not in English: a.d',
        'values differ: a.b (x / y)',
        'plural form not used by this language: a.n_one',
        'plural form missing: a.n_other',
      ]),
    );
  });

  it('have the same keys in English and Chinese, with the same values and tags', () => {
    expect(catalogueMismatches(en, zhCN, ['other'])).toEqual([]);
  });

  it('finds an unused key and a key no catalogue has (checked on a sample)', () => {
    const sample = literalKeys([
      "t('a.used'); t(`a.plural`, { count }); const M = { x: 'a.inMap' }; t('a.typo')",
    ]);
    const cat = { a: { used: 'u', plural_one: 'p', plural_other: 'ps', inMap: 'm', idle: 'i' } };
    expect(unusedKeys(cat, sample)).toEqual(['a.idle']);
    expect(unknownKeys(cat, sample)).toEqual(['a.typo']);
  });

  it('hold no key the UI does not use, and the UI names no key they lack', () => {
    expect(unusedKeys(en, used)).toEqual([]);
    expect(unknownKeys(en, used)).toEqual([]);
  });

  it('finds text left in the JSX (checked on a sample)', () => {
    const sample = [
      "export const A = () => <p className='x' data-testid='y'>Hello world</p>;",
      'export const B = () => <input placeholder="Type here" />;',
      "export const C = (b: boolean) => <b>{b ? 'Saving…' : t('common.save')}</b>;",
      'export const D = (x: string) => <Row title={`Remove ${x}`} />;',
      "export const E = () => <TableHead columns={['Name', t('a.b')]} />;",
      "export const F = () => <p title={t('a.b')}>{t('a.c')} · {'–'} <code>/v1/x</code></p>;",
    ].join('\n');
    const found = untranslatedJsx('sample.tsx', sample);
    expect(found).toEqual([
      'sample.tsx:1: "Hello world"',
      'sample.tsx:2: "Type here"',
      'sample.tsx:3: "Saving…"',
      'sample.tsx:4: "Remove"',
      'sample.tsx:5: "Name"',
    ]);
  });

  it('leave no text of the UI untranslated in its JSX', () => {
    const found = files.flatMap((f, i) =>
      f.endsWith('.tsx') ? untranslatedJsx(relative(APP, f), sources[i] ?? '') : [],
    );
    expect(found, 'move each into the catalogues (docs/ui.md, "Languages")').toEqual([]);
  });

  it('name every error code of the API in both languages', () => {
    const codes = Object.keys(ERROR_STATUS).sort();
    expect(Object.keys(en.errors.code).sort()).toEqual(codes);
    expect(Object.keys(zhCN.errors.code).sort()).toEqual(codes);
  });

  it('translate every problem code the spec can produce, in both languages', () => {
    const codes = [...PROBLEM_CODES].sort();
    const of = (tree: Tree) => [
      ...new Set(
        Object.keys(tree)
          .filter((k) => k !== 'words')
          .map(base)
          .sort(),
      ),
    ];
    expect(of(en.problems)).toEqual(codes);
    expect(of(zhCN.problems)).toEqual(codes);
  });
});

describe('problems in the UI’s language', () => {
  // Each generic problem once (a mistake per field), from the spec's own zod → problem path.
  const Schema = z
    .object({
      short: z.string().min(2),
      long: z.string().max(1),
      pair: z.string().length(2),
      few: z.array(z.number()).min(2),
      many: z.array(z.number()).max(1),
      low: z.number().min(5),
      high: z.number().int().max(10),
      positive: z.number().gt(0),
      small: z.number().lt(5),
      mode: z.enum(['a', 'b']),
      lit: z.literal('x'),
      choice: z.union([z.literal('p'), z.literal('q')]),
      shape: z.union([z.string(), z.number()]),
      tagged: z.discriminatedUnion('type', [
        z.object({ type: z.literal('r') }),
        z.object({ type: z.literal('s') }),
      ]),
      port: z.number(),
      needed: z.string(),
      nested: z.object({}).strict(),
    })
    .strict();
  const input = {
    short: 'a',
    long: 'ab',
    pair: 'abc',
    few: [1],
    many: [1, 2],
    low: 1,
    high: 11,
    positive: 0,
    small: 5,
    mode: 'c',
    lit: 'y',
    choice: 'z',
    shape: true,
    tagged: { type: 't' },
    port: 'eighty',
    nested: { extra: 1 },
  };
  const parsed = Schema.safeParse(input);
  const problems = parsed.success ? [] : problemsFromZod(parsed.error, input);

  const render = async (lng: string, resources: Tree) => {
    const i = i18next.createInstance();
    await i.init({
      lng,
      resources: { [lng]: { translation: resources } },
      interpolation: { escapeValue: false },
      initAsync: false,
    });
    return i;
  };

  it('carry a code and values for each generic mistake', () => {
    expect(problems.map((p) => p.code).sort()).toEqual(
      [
        'entries_at_least',
        'entries_at_most',
        'length_at_least',
        'length_at_most',
        'length_exactly',
        'must_be_one_of',
        'not_literal',
        'not_one_of',
        'not_one_of',
        'number_at_least',
        'number_at_most',
        'number_less_than',
        'number_more_than',
        'required',
        'unknown_key',
        'wrong_shape',
        'wrong_type',
      ].sort(),
    );
  });

  it('are worded in the English catalogue exactly as the API words them', async () => {
    const i = await render('en', en);
    for (const p of problems)
      expect(i.t(`problems.${p.code}` as never, p.params), p.path).toBe(p.message);
  });

  it('are worded in Chinese with every value filled in and the type words translated', async () => {
    const i = await render('zh-CN', zhCN);
    const words = zhCN.problems.words as Record<string, string>;
    for (const p of problems) {
      const params = Object.fromEntries(
        Object.entries(p.params ?? {}).map(([k, v]) => [k, words[v] ?? v]),
      );
      const text = i.t(`problems.${p.code}` as never, params);
      expect(text, p.path).not.toMatch(/\{\{|[A-Za-z]{4,} [A-Za-z]{4,}/);
      expect(text, p.path).toMatch(/\p{Script=Han}/u);
    }
    const typed = problems.find((p) => p.code === 'wrong_type');
    expect(typed?.params).toEqual({ expected: 'a number', got: 'string' });
    expect(words['a number']).toBe('数字');
  });
});

// ---- issue 22: no problem without a code (w5-codes) ----
/**
 * One invalid value per sentence of the spec (spec/problems.ts SENTENCES), through the spec's
 * own schemas and whole-document rules, as the API and the CLI check them.
 */
const PEM = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
const origin = { host: { v4: '127.0.0.1' } };
const edge = (name: string, more: Record<string, unknown> = {}) => ({
  name,
  host: { v4: '127.0.0.2' },
  ...more,
});
/** A site served by `n` Caddy edges, asking what Caddy 2.6 cannot do. */
const caddySpec = (n: number) => ({
  edges: Array.from({ length: n }, (_, i) =>
    edge(`c${i + 1}`, { proxy: 'caddy', real_ip_from: ['10.0.0.0/8'] }),
  ),
  sites: [
    {
      domain: 'a.test',
      origins: [origin],
      waf: { enabled: true },
      access: {
        body: '}',
        rules: [
          {
            match: {
              client_ips: ['10.1.0.0/16'],
              countries: ['HK'],
              asns: [4134],
              headers: [
                { name: 'X-A', regex: '(?<=a)b' },
                { name: 'X-B', regex: '(?>a)' },
                { name: 'X-C', regex: '(a)\\1' },
                { name: 'X-D', regex: 'a++' },
                { name: 'X-E', regex: '(?<n>a)' },
              ],
              query: [{ name: 'q', regex: 'a' }],
            },
            action: 'deny',
          },
        ],
      },
      rate_limits: [{ name: 'r', rate: '10r/s' }],
    },
  ],
});
const bodySpec = (body: string, n = 1) => ({
  edges: Array.from({ length: n }, (_, i) => edge(`c${i + 1}`, { proxy: 'caddy' })),
  sites: [{ domain: 'a.test', origins: [origin], access: { body } }],
});
const aliasBomb = [
  'a: &a ["x","x","x","x","x","x","x","x","x"]',
  ...Array.from({ length: 8 }, (_, k) => {
    const [prev, name] = [String.fromCharCode(97 + k), String.fromCharCode(98 + k)];
    return `${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`;
  }),
].join('\n');
const channel = (settings: Record<string, unknown>, secret?: string) => ({
  name: 'ch',
  settings,
  ...(secret === undefined ? {} : { secret }),
});
const email = { type: 'email', host: 'smtp.test', from: 'a@b.test', to: ['c@d.test'] };

const CORPUS: [z.ZodTypeAny | 'spec' | 'yaml', unknown][] = [
  ...['', '1.2.3.4', 'a b.test', 'A.test', `${'a'.repeat(60)}.`.repeat(5) + 'test'].map(
    (v) => [spec.Hostname, v] as [z.ZodTypeAny, unknown],
  ),
  ...['localhost', 'a_b.test', 'a.123'].map((v) => [spec.DomainName, v] as [z.ZodTypeAny, unknown]),
  [spec.IPv4, 'x'],
  [spec.IPv6, 'x'],
  [spec.IPv6, 'fe80::1%eth0'],
  [spec.Cidr, '10.0.0.0/33'],
  [spec.ClientIp, '@Bad'],
  [spec.ClientIp, 'x'],
  [spec.IpLists, { office: ['fe80::1%eth0'] }],
  [spec.HostAddresses, {}],
  [spec.LogFilter, { client: 'zz', status: '99' }],
  [
    spec.DnsSettings,
    {
      provider: 'powerdns',
      api_url: 'http://127.0.0.1:8081',
      api_key: 'env:K',
      server_id: 'a b',
      health_match: '',
      dns_servers: ['x'],
    },
  ],
  [spec.Name, 'A'],
  [spec.SecretRef, 'plain'],
  [spec.PathGlob, 'x'],
  [spec.PathGlob, '/a%0a'],
  [spec.Extension, '.js'],
  [spec.HeaderName, 'a_b'],
  [spec.SettableHeaderName, 'Content-Length'],
  [spec.SettableHeaderName, 'X-Outpost-Edge'],
  [spec.HeaderValue, 'a\x01'],
  [spec.UrlTemplate, 'a b'],
  [spec.UrlTemplate, '/{nope}'],
  [spec.UrlTemplate, '/x}'],
  [spec.UrlTemplate, 'ftp://x'],
  [spec.HttpUrl, 'nourl'],
  [spec.HttpUrl, 'ftp://x.test'],
  [spec.PemCertificates, 'x'],
  [spec.QueryParamName, 'a-b'],
  [spec.CountryCode, 'hk'],
  [spec.CountryCode, 'AA'],
  [spec.EdgeSelector, 'tag:'],
  [spec.NetworkLineName, 'nope'],
  [spec.ContentTypePattern, 'Text/HTML'],
  [spec.PurgePath, '/a b'],
  [spec.PurgePath, 'a'],
  [spec.CacheTag, ''],
  [spec.TokenCreate, { name: 'Bad', scopes: [] }],
  [spec.UserCreate, { name: 'u', scopes: ['read'], password: 'short' }],
  ...[
    '',
    'a'.repeat(513),
    'a\x01',
    '{$X}',
    'a\\',
    '\\Qa',
    '[[:alpha',
    '(*UTF)',
    '(?C1)',
    '(?#x',
    '(?x)a',
    'a)',
    '[a',
    '(a',
  ].map((v) => [spec.MatchRegex, v] as [z.ZodTypeAny, unknown]),
  [spec.MatchText, 'a\x01'],
  [spec.MatchHeaderName, 'a_b'],
  [spec.HeaderCondition, { name: 'X-A' }],
  [spec.HeaderCondition, { name: 'X-A', exact: 'v', prefix: 'w' }],
  [spec.RequestRate, '10/s'],
  [spec.RateLimitKey, 'cookie'],
  [spec.UserAgentCondition, ''],
  [spec.CacheRule, { match: {}, action: 'bypass', force: true }],
  [spec.CacheRule, { match: {}, action: 'cache', force: true }],
  [spec.CacheRule, { match: { statuses: [200] }, action: 'cache', ttl: 60, slice: true }],
  [spec.SiteOrigins, []],
  [
    spec.SiteOrigins,
    [
      { ...origin, protocol: 'http' },
      { ...origin, protocol: 'https' },
    ],
  ],
  [
    spec.SiteOrigins,
    [
      { ...origin, protocol: 'https', tls_ca: PEM },
      { ...origin, protocol: 'https' },
    ],
  ],
  [spec.AccessRule, { match: {}, action: 'redirect' }],
  [spec.AccessRule, { match: {}, action: 'redirect', target: '/x', status: 303 }],
  [spec.AccessRule, { match: {}, action: 'deny', target: '/x' }],
  [spec.AccessRule, { match: {}, action: 'allow', status: 403 }],
  [spec.AccessRule, { match: {}, action: 'deny', status: 302 }],
  [spec.SiteAccess, { body: 'a\x01' }],
  [spec.RateLimit, { name: 'a', rate: '10r/s', burst: 1, delay: 5 }],
  [
    spec.SiteRateLimits,
    [
      { name: 'a', rate: '10r/s' },
      { name: 'a', rate: '10r/s', status: 503 },
    ],
  ],
  [spec.ChannelCreate, channel({ type: 'webhook', url: 'http://127.0.0.1/' })],
  [spec.ChannelCreate, channel({ type: 'slack' }, 'x')],
  [spec.ChannelCreate, channel({ ...email, user: 'u' })],
  [spec.ChannelCreate, channel({ type: 'webhook', url: 'http://127.0.0.1/' }, 'short')],
  [spec.ChannelCreate, channel({ ...email, from: 'x', to: [], tls_ca: 'x' })],
  [spec.ChannelCreate, channel({ type: 'telegram', chat_id: '' }, 'token')],
  [
    'spec',
    {
      dns: { provider: 'gcore', api_token: 'env:T' },
      edges: [edge('e1', { tags: ['eu'] }), edge('e1')],
      sites: [
        { domain: 'a.test', origins: [origin], edges: ['tag:asia', 'e9'] },
        { domain: 'a.test', origins: [origin], health_check: { timeout: 20 } },
      ],
    },
  ],
  [
    'spec',
    {
      sites: [
        {
          domain: 'a.test',
          origins: [origin],
          access: { rules: [{ match: { client_ips: ['@nope'] }, action: 'deny' }] },
          cache: {
            rules: [
              {
                match: { statuses: [200], headers: [{ name: 'X-A', exact: 'v' }] },
                action: 'cache',
              },
            ],
          },
        },
      ],
    },
  ],
  ['spec', caddySpec(1)],
  ['spec', caddySpec(2)],
  ['spec', bodySpec('{$X}')],
  ['spec', bodySpec('`a\\"')],
  ['spec', bodySpec('{$X}', 2)],
  ['spec', bodySpec('`a\\"', 2)],
  ['yaml', 'a: [\n'],
  ['yaml', `${aliasBomb}\n`],
  // zod's own checks without a sentence of ours, and a refinement worded by sentence().
  [
    z.object({
      at: z.string().datetime(),
      n: z.number().multipleOf(5),
      f: z.number().finite(),
      d: z.date(),
    }),
    { at: 'x', n: 7, f: Infinity, d: new Date('x') },
  ],
  [
    z
      .object({ yaml: z.string().optional() })
      .refine((r) => r.yaml !== undefined, spec.sentence('yaml_or_spec')),
    {},
  ],
];

/** The problems of each entry of the corpus (an entry without any is a broken entry). */
function corpusProblems(): { entry: number; problems: Problem[] }[] {
  return CORPUS.map(([schema, input], entry) => {
    if (schema === 'spec') {
      const v = spec.validateSpec(input);
      return { entry, problems: v.ok ? [] : v.problems };
    }
    if (schema === 'yaml') {
      const v = spec.validateSpecYaml(String(input));
      return { entry, problems: v.ok ? [] : v.problems };
    }
    const r = schema.safeParse(input);
    return { entry, problems: r.success ? [] : problemsFromZod(r.error, input) };
  });
}

/** What is wrong with problems for the UI: no code, or a code a catalogue cannot word. */
function uncodedProblems(problems: Problem[], catalogues: Tree[]): string[] {
  const out: string[] = [];
  for (const p of problems) {
    if (p.code === undefined) out.push(`no code: ${p.path}: ${p.message}`);
    else
      for (const c of catalogues) {
        const keys = flatten(c);
        if (![p.code, `${p.code}_other`].some((k) => keys.has(`problems.${k}`)))
          out.push(`no translation: ${p.code}`);
      }
  }
  return out;
}

/** Zod calls whose message is a literal (not a sentence of SENTENCES), and `message:` literals. */
function literalMessages(file: string, text: string): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: string[] = [];
  const ZOD = new Set([
    'regex',
    'min',
    'max',
    'length',
    'url',
    'email',
    'datetime',
    'refine',
    'startsWith',
    'endsWith',
    'includes',
    'nonempty',
  ]);
  const literal = (e: ts.Node) =>
    ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e) || ts.isTemplateExpression(e);
  const report = (node: ts.Node) => {
    const { line } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
    out.push(`${file}:${line + 1}: ${node.getText(sf).slice(0, 60)}`);
  };
  const visit = (node: ts.Node): void => {
    if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      ZOD.has(node.expression.name.text)
    )
      for (const a of node.arguments.slice(1)) if (literal(a)) report(a);
    if (
      ts.isPropertyAssignment(node) &&
      node.name.getText(sf) === 'message' &&
      literal(node.initializer)
    )
      report(node);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

describe('problems without a code (issue 22)', () => {
  const found = corpusProblems();

  it('finds a problem without a code or translation, and a literal zod message (checked on a sample)', () => {
    const bare: Problem = { path: 'x', segments: ['x'], message: 'is odd' };
    const unknown = { ...bare, code: 'not_a_code' as never };
    expect(uncodedProblems([bare, unknown], [en])).toEqual([
      'no code: x: is odd',
      'no translation: not_a_code',
    ]);
    const sample = [
      "const A = z.string().regex(/a/, 'must be a');",
      'const B = z.string().min(1, `too short`).max(2);',
      'ctx.addIssue({ code: z.ZodIssueCode.custom, message: `bad ${v}` });',
      "const C = z.string().regex(/a/, sentence('name_format')).refine(f, issue(said('empty')));",
    ].join('\n');
    expect(literalMessages('sample.ts', sample)).toEqual([
      "sample.ts:1: 'must be a'",
      'sample.ts:2: `too short`',
      'sample.ts:3: message: `bad ${v}`',
    ]);
  });

  it('are none: every sentence of the spec is worded from its code', () => {
    const SPEC = fileURLToPath(new URL('../../../spec/', import.meta.url));
    const files = [
      ...readdirSync(SPEC)
        .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && f !== 'problems.ts')
        .map((f) => join(SPEC, f)),
      fileURLToPath(new URL('../../../state/routes.ts', import.meta.url)),
    ];
    const literals = files.flatMap((f) =>
      literalMessages(relative(APP, f), readFileSync(f, 'utf8')),
    );
    expect(literals, 'word each with a sentence of spec/problems.ts SENTENCES').toEqual([]);
  });

  it('every invalid value of the corpus gets problems, each with a code both catalogues word', () => {
    expect(found.filter((f) => f.problems.length === 0).map((f) => f.entry)).toEqual([]);
    const all = found.flatMap((f) => f.problems);
    expect(uncodedProblems(all, [en, zhCN])).toEqual([]);
  });

  it('covers every sentence of SENTENCES, each plural form too', () => {
    const all = found.flatMap((f) => f.problems);
    const seen = new Set(all.map((p) => p.code));
    expect(Object.keys(SENTENCES).filter((c) => !seen.has(c as ProblemCode))).toEqual([]);
    const plural = Object.entries(SENTENCES).filter(([, t]) => typeof t !== 'string');
    const counts = (c: string) =>
      new Set(all.filter((p) => p.code === c).map((p) => p.params?.count === '1'));
    expect(plural.filter(([c]) => counts(c).size < 2).map(([c]) => c)).toEqual([]);
  });

  it('are worded in English by the catalogue exactly as the API words them, and in Chinese', async () => {
    const all = found.flatMap((f) => f.problems);
    const at = async (lng: string, resources: Tree) => {
      const i = i18next.createInstance();
      await i.init({
        lng,
        resources: { [lng]: { translation: resources } },
        interpolation: { escapeValue: false },
        initAsync: false,
      });
      const find = (k: string, o?: Record<string, string | number>) => {
        const key = k as never; // made at run time from a code, as messages.ts does
        return i.exists(key, o) ? i.t(key, o) : null;
      };
      return (p: Problem) => find(`problems.${p.code}`, problemValues(p.params, find)) ?? '';
    };
    const english = await at('en', en);
    const chinese = await at('zh-CN', zhCN);
    for (const p of all) {
      // English: the API's words (their values are not translated in English).
      expect(english({ ...p, params: p.params }), `${p.path} (${p.code})`).toBe(p.message);
      const text = chinese(p);
      expect(text, `${p.path} (${p.code})`).toMatch(/\p{Script=Han}/u);
      expect(text, `${p.path} (${p.code})`).not.toMatch(/\{\{/);
      // Quoted text is literal (a value, a placeholder); the YAML parser's detail is its own.
      if (p.code !== 'yaml_syntax')
        expect(text.replace(/"[^"]*"/g, ''), `${p.path} (${p.code})`).not.toMatch(
          /[A-Za-z]{4,} [A-Za-z]{4,}/,
        );
    }
    const host = all.find((p) => p.code === 'hostname_bad_char');
    expect(host && chinese(host)).toBe('"a b.test" 含有空格，主机名中不允许出现');
    const control = all.find((p) => p.code === 'header_value_bad_char');
    expect(control && chinese(control)).toBe('含有控制字符（0x01），头部值中不允许出现');
  });
});
// ---- end issue 22: no problem without a code ----

// ---- Messages the control plane writes (spec/messages.ts) ----
describe('messages the control plane writes, in the UI’s language', () => {
  const of = (tree: Tree) =>
    Object.keys(tree)
      .filter((k) => k !== 'words')
      .sort();
  /** Each code once, with a value for each of its placeholders. */
  const samples = MESSAGE_CODES.map((code: MessageCode) =>
    coded(
      code,
      Object.fromEntries(
        [...MESSAGE_TEMPLATES[code].matchAll(/\{\{(\w+)\}\}/g)].map((m) => [m[1] ?? '', '7']),
      ),
    ),
  );
  const render = async (lng: string, resources: Tree) => {
    const i = i18next.createInstance();
    await i.init({
      lng,
      resources: { [lng]: { translation: resources } },
      interpolation: { escapeValue: false },
      initAsync: false,
    });
    return i;
  };

  it('finds a code without a translation (checked on a sample)', () => {
    const missing = (codes: string[], tree: Tree) => codes.filter((c) => !of(tree).includes(c));
    expect(missing(['probe_timeout', 'probe_status'], { probe_status: 's', words: {} })).toEqual([
      'probe_timeout',
    ]);
  });

  it('translate every code of the messages table, in both languages', () => {
    const codes = [...MESSAGE_CODES].sort();
    expect(of(en.messages)).toEqual(codes);
    expect(of(zhCN.messages)).toEqual(codes);
  });

  it('are worded in the English catalogue exactly as the control plane words them', async () => {
    const i = await render('en', en);
    for (const m of samples)
      expect(i.t(`messages.${m.code}` as never, m.params), m.code).toBe(englishOf(m));
  });

  it('are worded in Chinese with every value filled in', async () => {
    const i = await render('zh-CN', zhCN);
    for (const m of samples) {
      const text = i.t(`messages.${m.code}` as never, m.params);
      expect(text, m.code).not.toMatch(/\{\{/);
      expect(text, m.code).toMatch(/\p{Script=Han}/u);
    }
  });

  it('are shown from the catalogue, nested and with their words; an unknown code shows the English', async () => {
    await i18n.init({
      lng: 'zh-CN',
      fallbackLng: 'en',
      resources: { en: { translation: en }, 'zh-CN': { translation: zhCN } },
      interpolation: { escapeValue: false },
      initAsync: false,
    });
    const english = 'site s.test is down: origins: connection failed: ECONNREFUSED';
    const down = coded('alert_site_down', {
      site: 's.test',
      reason: coded('site_origins_down', {
        reason: coded('probe_connection_failed', { error: 'ECONNREFUSED' }),
      }),
    });
    expect(messageText(english, down)).toBe('站点 s.test 宕机：源站：连接失败：连接被拒绝');
    expect(
      messageText(
        'edge a: disk full',
        codedOf({ code: 'alert_config_error', params: { edge: 'a', error: 'disk full' } }),
      ),
    ).toBe('节点 a：disk full');
    // A code the catalogue lacks, at any depth, or none at all: the English text.
    expect(messageText('x happened', { code: 'no_such_code', params: {} })).toBe('x happened');
    const inner = coded('alert_edge_down', { edge: 'a', reason: { code: 'newer', params: {} } });
    expect(messageText('edge a is down: newer', inner)).toBe('edge a is down: newer');
    expect(messageText('as sent', undefined)).toBe('as sent');
    expect(maybeMessageText(null, null)).toBeNull();
    await i18n.changeLanguage('en');
    expect(messageText(english, down)).toBe(english);
  });
});
// ---- end of the messages block ----

describe('the language shown first', () => {
  it('is a stored choice, else the browser’s first language we have, else English', () => {
    expect(pickLanguage(null, ['zh-CN', 'en'])).toBe('zh-CN');
    expect(pickLanguage(null, ['zh'])).toBe('zh-CN');
    expect(pickLanguage(null, ['zh-Hans'])).toBe('zh-CN');
    expect(pickLanguage(null, ['zh-Hans-CN'])).toBe('zh-CN');
    expect(pickLanguage(null, ['zh-TW', 'en-GB'])).toBe('en');
    expect(pickLanguage(null, ['de-DE', 'zh-CN'])).toBe('zh-CN');
    expect(pickLanguage(null, ['en-US', 'zh-CN'])).toBe('en');
    expect(pickLanguage(null, ['fr'])).toBe('en');
    expect(pickLanguage(null, [])).toBe('en');
    expect(pickLanguage('en', ['zh-CN'])).toBe('en');
    expect(pickLanguage('zh-CN', ['en-US'])).toBe('zh-CN');
    expect(pickLanguage('klingon', ['zh'])).toBe('zh-CN');
  });
});

// Issue 16 part A: no value of the protection fields (header values and patterns, user agents,
// query values, deny bodies, client networks, IP lists) can inject an nginx directive. For
// hostile strings, either the spec refuses the document, or the rendered directives are
// exactly those of a benign equivalent and nginx -t accepts the output (a pattern that is
// valid for the spec may still be refused by PCRE: then nginx -t names the pattern, as the
// control plane's check would before publishing). The same on a Caddy edge: the Caddyfile
// adapts (a real `caddy adapt`) to JSON of the benign document's shape, the deny body reaches
// Caddy byte for byte, and `caddy validate` passes (or names the RE2 pattern it refuses).
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileEdgePlan } from '../compile/index.js';
import { validateSpec } from '../spec/index.js';
import { checkNginxConfig } from '../proxy-check/nginx-check.js';
import { checkCaddyConfig } from '../proxy-check/caddy-check.js';
import { renderCaddy } from './caddy.js';
import { directiveNames } from '../../test/support/nginx-directives.js';
import { renderNginx, type RenderedFile } from './nginx.js';

const NGINX = '/usr/sbin/nginx';
const CADDY = '/usr/bin/caddy';

interface Slots {
  headerExact: string;
  headerRegex: string;
  userAgent: string;
  userAgentRegex: string;
  queryPrefix: string;
  body: string;
  network: string;
  listNetwork: string;
}

const BENIGN: Slots = {
  headerExact: 'k-1',
  headerRegex: '^app/[0-9]+$',
  userAgent: 'curl',
  userAgentRegex: '^(?:Masscan|zgrab)',
  queryPrefix: 'en',
  body: 'Not here.',
  network: '192.0.2.0/24',
  listNetwork: '2001:db8::/32',
};
const REGEX_SLOTS: (keyof Slots)[] = ['headerRegex', 'userAgentRegex'];

function buildSpec(s: Slots, proxy: 'nginx' | 'caddy' = 'nginx') {
  // A Caddy edge has no rate limiter: the query condition moves into an access rule there.
  const queryMatch = { query: [{ name: 'lang', prefix: s.queryPrefix }] };
  const limits =
    proxy === 'nginx'
      ? { rate_limits: [{ name: 'q', match: queryMatch, rate: '1r/s' }] }
      : { access_extra: { match: queryMatch, action: 'deny', status: 409 } };
  return {
    ip_lists: { office: [s.listNetwork] },
    edges: [{ name: 'e1', host: { v4: '198.51.100.1' }, proxy }],
    sites: [
      {
        domain: 'www.example.com',
        origins: [{ host: { v4: '203.0.113.10' }, protocol: 'http' }],
        access: {
          default: 'deny',
          body: s.body,
          rules: [
            { match: { client_ips: [s.network, '@office'] }, action: 'allow' },
            {
              match: {
                headers: [
                  { name: 'X-Api-Key', exact: s.headerExact },
                  { name: 'Accept', regex: s.headerRegex },
                ],
              },
              action: 'deny',
            },
            {
              match: { user_agents: [s.userAgent, { regex: s.userAgentRegex }] },
              action: 'redirect',
              target: '/',
            },
            ...('access_extra' in limits ? [limits.access_extra] : []),
          ],
        },
        ...('rate_limits' in limits ? { rate_limits: limits.rate_limits } : {}),
      },
    ],
  };
}

function render(s: Slots): RenderedFile[] | 'rejected' {
  const v = validateSpec(buildSpec(s));
  if (!v.ok) return 'rejected';
  return renderNginx(compileEdgePlan(v.spec, 'e1'), { release: 1, certificates: [] });
}

const allDirectives = (files: RenderedFile[]) =>
  files
    .filter((f) => f.path.endsWith('.conf'))
    .flatMap((f) => directiveNames(f.content))
    .sort();

const NASTY = ['"', "'", ';', '{', '}', '\\', '$', '`', '#', ' ', '\n', '\r', '\0', '(', ')', '['];
const nasty = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY) },
  fc.constantFrom(
    '"; return 200 x; #',
    '}; location / { return 200; ',
    '${host}',
    '$host',
    '\\"',
    ')|(.*',
    '(?x)#',
    '\\Q',
    '(*UTF)',
    '/8',
    '%0a',
  ),
  fc.string({ maxLength: 3 }),
);
const hostile = (benign: string) =>
  fc
    .tuple(fc.array(nasty, { minLength: 1, maxLength: 4 }), fc.nat(benign.length))
    .map(([pieces, at]) => benign.slice(0, at) + pieces.join('') + benign.slice(at));

const slotNames = Object.keys(BENIGN) as (keyof Slots)[];
const hostileSlots = fc.subarray(slotNames, { minLength: 1, maxLength: 2 }).chain((keys) =>
  fc.tuple(...keys.map((k) => hostile(BENIGN[k]))).map((values) => {
    const s = { ...BENIGN };
    keys.forEach((k, i) => (s[k] = values[i] as string));
    return { slots: s, keys };
  }),
);

describe('protection fields: injection safety (fast-check + nginx -t)', () => {
  const benign = render(BENIGN);
  if (benign === 'rejected') throw new Error('the benign spec must be valid');
  const benignDirectives = allDirectives(benign);

  it('the benign spec renders and passes nginx -t', async () => {
    const r = await checkNginxConfig(benign, { nginx: NGINX, certificates: [] });
    expect(r.output).toBe('');
    expect(r.ok).toBe(true);
  });

  it('a hostile value is refused by the spec, or changes no directive', async () => {
    let accepted = 0;
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(hostileSlots, async ({ slots, keys }) => {
        const files = render(slots);
        if (files === 'rejected') return;
        accepted++;
        expect(allDirectives(files)).toEqual(benignDirectives);
        // nginx -t on a bounded number of documents (each start costs ~0.3 s).
        if (checked >= 40) return;
        checked++;
        const r = await checkNginxConfig(files, { nginx: NGINX, certificates: [] });
        if (r.ok) return;
        expect(keys.some((k) => REGEX_SLOTS.includes(k))).toBe(true);
        expect(r.output).toMatch(/pcre2?_compile\(\) failed/);
      }),
      { numRuns: 400, seed: 20_261_201 },
    );
    expect(accepted).toBeGreaterThan(40);
  }, 120_000);
});

function renderForCaddy(s: Slots): RenderedFile[] | 'rejected' {
  const v = validateSpec(buildSpec(s, 'caddy'));
  if (!v.ok) return 'rejected';
  return renderCaddy(compileEdgePlan(v.spec, 'e1'), { release: 1, certificates: [], cache: false });
}

/** `caddy adapt` of a rendered Caddyfile: the JSON config Caddy would load. */
async function adapt(files: RenderedFile[]): Promise<unknown> {
  const dir = await mkdtemp(join(tmpdir(), 'outpost-caddy-adapt-'));
  try {
    const file = join(dir, 'Caddyfile');
    await writeFile(file, files.find((f) => f.path === 'caddy/Caddyfile')?.content ?? '');
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        CADDY,
        ['adapt', '--config', file, '--adapter', 'caddyfile'],
        { env: { HOME: dir, OUTPOST_RELEASE: dir }, encoding: 'utf8' },
        (error, stdout, stderr) => (error === null ? resolve(stdout) : reject(new Error(stderr))),
      ),
    );
    return JSON.parse(out) as unknown;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The JSON with every string replaced by "s": the handlers, matchers and keys, not values. */
function shape(v: unknown): unknown {
  if (typeof v === 'string') return 's';
  if (Array.isArray(v)) return v.map(shape);
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]));
  return v;
}

/** Every static_response body in the JSON, as Caddy's replacer serves it (`\{` is `{`). */
function bodies(v: unknown, out: string[] = []): string[] {
  if (Array.isArray(v)) v.forEach((x) => bodies(x, out));
  else if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (o.handler === 'static_response' && typeof o.body === 'string')
      // Caddy's replacer leaves a text without "{" as it is (measured, Caddy 2.6.2).
      out.push(o.body.includes('{') ? o.body.replace(/\\([{}])/g, '$1') : o.body);
    Object.values(o).forEach((x) => bodies(x, out));
  }
  return out;
}

describe('protection fields on a Caddy edge: injection safety (fast-check + caddy adapt/validate)', () => {
  const benign = renderForCaddy(BENIGN);
  if (benign === 'rejected') throw new Error('the benign spec must be valid for a Caddy edge');

  it('the benign spec renders, adapts and passes caddy validate', async () => {
    const r = await checkCaddyConfig(benign, { caddy: CADDY });
    expect(r.output).toBe('');
    expect(r.ok).toBe(true);
    expect(bodies(await adapt(benign))).toContain(BENIGN.body);
  });

  it('a hostile value is refused by the spec, or changes no handler or matcher', async () => {
    const benignShape = shape(await adapt(benign));
    let accepted = 0;
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(hostileSlots, async ({ slots, keys }) => {
        const files = renderForCaddy(slots);
        if (files === 'rejected') return;
        accepted++;
        const json = await adapt(files);
        expect(shape(json)).toEqual(benignShape);
        // Every deny answer carries the body exactly (default deny and the two deny rules).
        const got = bodies(json).filter((b) => !b.startsWith('outpost edge ok'));
        expect(got.length).toBeGreaterThan(0);
        for (const b of got) expect(b).toBe(slots.body);
        if (checked >= 30) return;
        checked++;
        const r = await checkCaddyConfig(files, { caddy: CADDY });
        if (r.ok) return;
        expect(keys.some((k) => REGEX_SLOTS.includes(k))).toBe(true);
        expect(r.output).toMatch(/error parsing regexp/);
      }),
      { numRuns: 250, seed: 20_261_201 },
    );
    expect(accepted).toBeGreaterThan(30);
  }, 240_000);
});

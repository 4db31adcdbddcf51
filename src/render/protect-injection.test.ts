// Issue 16 part A: no value of the protection fields (header values and patterns, user agents,
// query values, deny bodies, client networks, IP lists) can inject an nginx directive. For
// hostile strings, either the spec refuses the document, or the rendered directives are
// exactly those of a benign equivalent and nginx -t accepts the output (a pattern that is
// valid for the spec may still be refused by PCRE: then nginx -t names the pattern, as the
// control plane's check would before publishing).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileEdgePlan } from '../compile/index.js';
import { validateSpec } from '../spec/index.js';
import { checkNginxConfig } from '../proxy-check/nginx-check.js';
import { directiveNames } from '../../test/support/nginx-directives.js';
import { renderNginx, type RenderedFile } from './nginx.js';

const NGINX = '/usr/sbin/nginx';

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

function buildSpec(s: Slots) {
  return {
    ip_lists: { office: [s.listNetwork] },
    edges: [{ name: 'e1', host: { v4: '198.51.100.1' } }],
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
          ],
        },
        rate_limits: [
          {
            name: 'q',
            match: { query: [{ name: 'lang', prefix: s.queryPrefix }] },
            rate: '1r/s',
          },
        ],
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

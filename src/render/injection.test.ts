// Property: no value from the spec can inject an nginx directive. For hostile strings put
// into the fields that reach the config, either the spec rejects the document, or nginx -t
// accepts the rendered output and its directives are exactly those of a benign equivalent.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileEdgePlan } from '../compile/index.js';
import { validateSpec } from '../spec/index.js';
import { nginxLiteral, nginxString, RenderError } from './escape.js';
import { checkNginxConfig } from '../proxy-check/nginx-check.js';
import { renderNginx, type RenderedFile } from './nginx.js';
import { directiveNames } from '../../test/support/nginx-directives.js';

const NGINX = '/usr/sbin/nginx';

const allDirectives = (files: RenderedFile[]) =>
  files
    .filter((f) => f.path.endsWith('.conf'))
    .flatMap((f) => directiveNames(f.content))
    .sort();

interface Slots {
  edge: string;
  domain: string;
  alias: string;
  headerName: string;
  headerValue: string;
  target: string;
  glob: string;
  tlsServerName: string;
  extension: string;
}

const BENIGN: Slots = {
  edge: 'e1',
  domain: 'www.example.com',
  alias: 'example.com',
  headerName: 'X-Note',
  headerValue: 'hello',
  target: 'https://static.example.com{uri}',
  glob: '/downloads/*',
  tlsServerName: 'origin.test',
  extension: 'zip',
};

function buildSpec(s: Slots) {
  return {
    edges: [{ name: s.edge, host: { v4: '198.51.100.1' }, tags: ['t'] }],
    sites: [
      {
        domain: s.domain,
        aliases: [s.alias],
        origins: [{ host: { v4: '203.0.113.10' }, tls_server_name: s.tlsServerName }],
        https: { hsts: {} },
        modifiers: [
          {
            edges: [s.edge],
            match: { paths: [s.glob], extensions: [s.extension] },
            action: { type: 'redirect', target: s.target },
          },
          { match: { paths: [s.glob] }, action: { type: 'deny', status: 451 } },
          {
            edges: ['tag:t'],
            match: { paths: ['/h/*'] },
            action: { type: 'set_header', name: s.headerName, value: s.headerValue },
          },
        ],
        cache: { rules: [{ match: { paths: [s.glob] }, ttl: 60 }] },
      },
    ],
  };
}

function render(s: Slots): RenderedFile[] | 'rejected' {
  const v = validateSpec(buildSpec(s));
  if (!v.ok) return 'rejected';
  const plan = compileEdgePlan(v.spec, s.edge);
  return renderNginx(plan, { release: 1, certificates: [plan.sites[0]?.domain ?? ''] });
}

const NASTY = [';', '{', '}', '"', "'", '\\', '$', '`', '#', ' ', '\n', '\r', '\t', '\0', '~', '*'];
/** Characters some fields accept that mean something to nginx, PCRE or a shell. */
const TRICKY = ["'", '#', '(', ')', '|', '<', '>', '[', ']', '!', '@', '+', '=', ',', '%', '&'];
const nasty = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...TRICKY, '?', '^', '.', '-', ':', '/') },
  { weight: 2, arbitrary: fc.constantFrom(...NASTY) },
  fc.constantFrom(
    'include /etc/passwd',
    'return 200',
    'x.',
    '.com',
    '{uri}',
    '%0a',
    '%2A',
    '$host',
  ),
  fc.string({ maxLength: 3 }),
);
/** A benign value with hostile pieces spliced in (often still valid for the spec). */
const hostile = (benign: string) =>
  fc
    .tuple(
      fc.array(nasty, { minLength: 1, maxLength: 4 }),
      fc.nat(benign.length),
      fc.nat(9).map((n) => n === 0),
    )
    .map(([pieces, at, replace]) =>
      replace ? pieces.join('') : benign.slice(0, at) + pieces.join('') + benign.slice(at),
    );

const slotNames = Object.keys(BENIGN) as (keyof Slots)[];
const hostileSlots: fc.Arbitrary<Slots> = fc
  .subarray(slotNames, { minLength: 1, maxLength: 2 })
  .chain((keys) =>
    fc.tuple(...keys.map((k) => hostile(BENIGN[k]))).map((values) => {
      const s = { ...BENIGN };
      keys.forEach((k, i) => (s[k] = values[i] as string));
      return s;
    }),
  );

describe('escaping helpers', () => {
  it('quote and escape', () => {
    expect(nginxLiteral('a"b\\c;{}')).toBe('"a\\"b\\\\c;{}"');
    expect(nginxString('a$b')).toBe('"a${outpost_dollar}b"');
    expect(() => nginxLiteral('a\nb')).toThrow(RenderError);
  });

  it('finds directive names', () => {
    expect(directiveNames('a "b;c" {\n  d \'x}\' ; # e;\n}\nf "\\"";')).toEqual(['a', 'd', 'f']);
    expect(directiveNames('map $a $b { default 0; "~x" 1; }')).toEqual([
      'map',
      '<entry>',
      '<entry>',
    ]);
  });
});

describe('injection safety (fast-check + nginx -t)', () => {
  const benignFiles = render(BENIGN);
  if (benignFiles === 'rejected') throw new Error('the benign spec must be valid');
  const benignDirectives = allDirectives(benignFiles);

  it('the benign spec renders and passes nginx -t', async () => {
    const r = await checkNginxConfig(benignFiles, {
      nginx: NGINX,
      certificates: [BENIGN.domain],
    });
    expect(r.output).toBe('');
  });

  it('a hostile value is rejected by the spec, or is harmless in the output', async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(hostileSlots, async (slots) => {
        const files = render(slots);
        if (files === 'rejected') return;
        accepted++;
        expect(allDirectives(files)).toEqual(benignDirectives);
        const r = await checkNginxConfig(files, {
          nginx: NGINX,
          certificates: [slots.domain],
        });
        expect(r.output).toBe('');
        expect(r.ok).toBe(true);
      }),
      { numRuns: 600, seed: 20_240_603 },
    );
    // Enough documents get through the spec for the nginx side to be exercised.
    expect(accepted).toBeGreaterThan(40);
  }, 60_000);
});

// Golden files for renderCaddy: src/render/golden-caddy/<case>.txt holds the input (YAML: edge,
// release, certificates, cache, spec, optional caddy_check: false), the separator line, then the
// expected files (`==== path ====` headers) or `!error <message>`. UPDATE_GOLDEN=1 rewrites them.
// Every golden output for a stock Caddy is also checked with a real `caddy validate`.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileEdgePlan } from '../compile/index.js';
import { parseSpec } from '../spec/index.js';
import { checkCaddyConfig } from '../proxy-check/caddy-check.js';
import { caddyString, renderCaddy } from './caddy.js';
import { RenderError } from './escape.js';
import { goldenCases, renderGolden } from '../../test/support/golden.js';

const DIR = join(import.meta.dirname, 'golden-caddy');
const CADDY = '/usr/bin/caddy';

interface GoldenInput {
  edge: string;
  release?: number;
  certificates?: string[];
  cache?: boolean;
  acme_challenge_url?: string;
  caddy_check?: boolean;
  spec: unknown;
}

const render = (input: GoldenInput) =>
  renderGolden(() =>
    renderCaddy(compileEdgePlan(parseSpec(input.spec), input.edge), {
      release: input.release ?? 1,
      certificates: input.certificates ?? [],
      cache: input.cache ?? false,
      ...(input.acme_challenge_url !== undefined
        ? { acmeChallengeUrl: input.acme_challenge_url }
        : {}),
    }),
  );

const cases = goldenCases<GoldenInput>(DIR);

describe('golden Caddyfiles', () => {
  it('has cases, and caddy to check them with', () => {
    expect(cases.length).toBeGreaterThan(5);
    expect(existsSync(CADDY)).toBe(true); // scripts/prepare-test.sh installs it
  });

  for (const { file, input, check } of cases) {
    const { output, files } = render(input);
    it(`${file}: renders as expected`, () => check(output));
    // Error cases render nothing; a Caddyfile with `cache` directives needs a Caddy built with
    // the cache-handler module, which the distribution's Caddy is not (caddy_check: false).
    if (files === null || input.caddy_check === false) continue;
    it(`${file}: caddy validate accepts it`, async () => {
      const r = await checkCaddyConfig(files, {
        caddy: CADDY,
        certificates: input.certificates ?? [],
        cache: input.cache ?? false,
      });
      expect(r.output).toBe('');
      expect(r.ok).toBe(true);
    });
  }

  it('the check can fail: caddy validate rejects a broken Caddyfile', async () => {
    const r = await checkCaddyConfig(
      [{ path: 'caddy/Caddyfile', content: 'http://:8080 {\n\tthis_is_not_a_directive\n}\n' }],
      { caddy: CADDY },
    );
    expect(r.ok).toBe(false);
    expect(r.output).toContain('this_is_not_a_directive');
  });

  it('quotes values and refuses what Caddy would expand', () => {
    expect(caddyString('say "hi"')).toBe('"say \\"hi\\""');
    expect(() => caddyString('{$HOME}')).toThrow(RenderError);
    expect(() => caddyString('{http.request.header.Cookie}')).toThrow(RenderError);
    expect(() => caddyString('end\\')).toThrow(RenderError);
    expect(() => caddyString('a\nb')).toThrow(RenderError);
  });
});

// Golden Caddyfiles: the shared corpus (src/render/golden-cases/, see test/support/golden.ts)
// rendered by renderCaddy, compared with src/render/golden-caddy/<case>.txt. UPDATE_GOLDEN=1
// rewrites them. Every golden output for a stock Caddy is also checked with a real `caddy validate`.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileEdgePlan } from '../compile/index.js';
import { parseSpec } from '../spec/index.js';
import { checkCaddyConfig } from '../proxy-check/caddy-check.js';
import { caddyString, renderCaddy } from './caddy.js';
import { RenderError } from './escape.js';
import {
  goldenCases,
  orphanOutputs,
  renderGolden,
  type GoldenInput,
} from '../../test/support/golden.js';

const DIR = join(import.meta.dirname, 'golden-caddy');
const CADDY = '/usr/bin/caddy';

const render = (input: GoldenInput) =>
  renderGolden(() =>
    renderCaddy(compileEdgePlan(parseSpec(input.spec), input.edge), {
      release: input.release ?? 1,
      certificates: input.certificates ?? [],
      cache: input.renderers.caddy?.cache ?? false,
      ...(input.acme_challenge_url !== undefined
        ? { acmeChallengeUrl: input.acme_challenge_url }
        : {}),
    }),
  );

const cases = goldenCases('caddy', DIR);

describe('golden Caddyfiles', () => {
  it('has cases, no expected output without its case, and caddy to check them with', () => {
    expect(cases.length).toBeGreaterThan(5);
    expect(existsSync(CADDY)).toBe(true); // scripts/prepare-test.sh installs it
    expect(orphanOutputs('caddy', DIR)).toEqual([]);
  });

  for (const { name, input, check } of cases) {
    const { output, files } = render(input);
    it(`${name}: renders as expected`, () => check(output));
    // Error cases render nothing; a Caddyfile with `cache` directives needs a Caddy built with
    // the cache-handler module, which the distribution's Caddy is not (check: false).
    if (files === null || input.renderers.caddy?.check === false) continue;
    it(`${name}: caddy validate accepts it`, async () => {
      const r = await checkCaddyConfig(files, {
        caddy: CADDY,
        certificates: input.certificates ?? [],
        cache: input.renderers.caddy?.cache ?? false,
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

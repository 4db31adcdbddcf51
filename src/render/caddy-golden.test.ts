// Golden files for renderCaddy: src/render/golden-caddy/<case>.txt holds the input (YAML: edge,
// release, certificates, cache, spec, optional caddy_check: false), the separator line, then the
// expected files (`==== path ====` headers) or `!error <message>`. UPDATE_GOLDEN=1 rewrites them.
// Every golden output for a stock Caddy is also checked with a real `caddy validate`.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { compileEdgePlan } from '../compile/index.js';
import { parseSpec } from '../spec/index.js';
import { checkCaddyConfig } from './caddy-check.js';
import { caddyString, renderCaddy } from './caddy.js';
import { RenderError } from './escape.js';
import type { RenderedFile } from './nginx.js';

const DIR = join(import.meta.dirname, 'golden-caddy');
const SEPARATOR = '---- expected ----\n';
const CADDY = '/usr/bin/caddy';
const UPDATE = process.env.UPDATE_GOLDEN === '1';

interface GoldenInput {
  edge: string;
  release?: number;
  certificates?: string[];
  cache?: boolean;
  acme_challenge_url?: string;
  caddy_check?: boolean;
  spec: unknown;
}

function formatFiles(files: readonly RenderedFile[]): string {
  return files.map((f) => `==== ${f.path} ====\n${f.content}`).join('');
}

function renderCase(input: GoldenInput): { output: string; files: RenderedFile[] | null } {
  try {
    const plan = compileEdgePlan(parseSpec(input.spec), input.edge);
    const files = renderCaddy(plan, {
      release: input.release ?? 1,
      certificates: input.certificates ?? [],
      cache: input.cache ?? false,
      ...(input.acme_challenge_url !== undefined
        ? { acmeChallengeUrl: input.acme_challenge_url }
        : {}),
    });
    return { output: formatFiles(files), files };
  } catch (e) {
    return { output: `!error ${(e as Error).message}\n`, files: null };
  }
}

const cases = readdirSync(DIR)
  .filter((f) => f.endsWith('.txt'))
  .sort();

describe('golden Caddyfiles', () => {
  it('has cases, and caddy to check them with', () => {
    expect(cases.length).toBeGreaterThan(5);
    expect(existsSync(CADDY)).toBe(true); // scripts/prepare-test.sh installs it
  });

  for (const file of cases) {
    const path = join(DIR, file);
    const text = readFileSync(path, 'utf8');
    const at = text.indexOf(SEPARATOR);
    const inputText = at === -1 ? text : text.slice(0, at);
    const expected = at === -1 ? '' : text.slice(at + SEPARATOR.length);
    const input = parse(inputText) as GoldenInput;
    const { output, files } = renderCase(input);

    it(`${file}: renders as expected`, () => {
      if (UPDATE || at === -1) {
        writeFileSync(path, `${inputText.replace(/\n*$/, '\n')}${SEPARATOR}${output}`);
        return;
      }
      expect(output).toBe(expected);
    });

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

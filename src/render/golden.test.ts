// Golden files: src/render/golden/<case>.txt holds the input (YAML: edge, release,
// certificates, spec, optional nginx_check: false), the separator line, then the expected
// files (`==== path ====` headers) or `!error <message>`. UPDATE_GOLDEN=1 rewrites them.
// Every golden output is also checked with a real `nginx -t` when nginx is installed.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { compileEdgePlan } from '../compile/index.js';
import { parseSpec } from '../spec/index.js';
import { checkNginxConfig } from './nginx-check.js';
import { renderNginx, type RenderedFile } from './nginx.js';

const DIR = join(import.meta.dirname, 'golden');
const SEPARATOR = '---- expected ----\n';
const NGINX = '/usr/sbin/nginx';
const UPDATE = process.env.UPDATE_GOLDEN === '1';

interface GoldenInput {
  edge: string;
  release?: number;
  certificates?: string[];
  /** renderNginx's acmeChallengeUrl (the control plane answering HTTP-01). */
  acme_challenge_url?: string;
  nginx_check?: boolean;
  spec: unknown;
}

export function formatFiles(files: readonly RenderedFile[]): string {
  return files.map((f) => `==== ${f.path} ====\n${f.content}`).join('');
}

function renderCase(input: GoldenInput): { output: string; files: RenderedFile[] | null } {
  try {
    const plan = compileEdgePlan(parseSpec(input.spec), input.edge);
    const files = renderNginx(plan, {
      release: input.release ?? 1,
      certificates: input.certificates ?? [],
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

describe('golden nginx configs', () => {
  it('has cases', () => expect(cases.length).toBeGreaterThan(5));

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

    // Error cases render nothing, and a case marked `nginx_check: false` (an origin hostname,
    // which nginx -t would resolve without DNS here) is checked for its text only.
    if (files === null || input.nginx_check === false) continue;
    it(`${file}: nginx -t accepts it`, async () => {
      const r = await checkNginxConfig(files ?? [], {
        nginx: NGINX,
        release: input.release ?? 1,
        edgeName: input.edge,
        certificates: input.certificates ?? [],
      });
      expect(r.output).toBe('');
      expect(r.ok).toBe(true);
    });
  }
});

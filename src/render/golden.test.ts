// Golden files: src/render/golden/<case>.txt holds the input (YAML: edge, release,
// certificates, staples, spec, optional nginx_check: false), the separator line, then the expected
// files (`==== path ====` headers) or `!error <message>`. UPDATE_GOLDEN=1 rewrites them.
// Every golden output is also checked with a real `nginx -t` when nginx is installed.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileEdgePlan } from '../compile/index.js';
import { parseSpec } from '../spec/index.js';
import { checkNginxConfig } from '../proxy-check/nginx-check.js';
import { goldenCases, renderGolden } from '../../test/support/golden.js';
import { renderNginx } from './nginx.js';

const DIR = join(import.meta.dirname, 'golden');
const NGINX = '/usr/sbin/nginx';

interface GoldenInput {
  edge: string;
  release?: number;
  certificates?: string[];
  /** Domains whose OCSP response is in the release (renderNginx's staples). */
  staples?: string[];
  /** renderNginx's acmeChallengeUrl (the control plane answering HTTP-01). */
  acme_challenge_url?: string;
  nginx_check?: boolean;
  spec: unknown;
}

const render = (input: GoldenInput) =>
  renderGolden(() =>
    renderNginx(compileEdgePlan(parseSpec(input.spec), input.edge), {
      release: input.release ?? 1,
      certificates: input.certificates ?? [],
      ...(input.staples !== undefined ? { staples: input.staples } : {}),
      ...(input.acme_challenge_url !== undefined
        ? { acmeChallengeUrl: input.acme_challenge_url }
        : {}),
    }),
  );

const cases = goldenCases<GoldenInput>(DIR);

describe('golden nginx configs', () => {
  it('has cases', () => expect(cases.length).toBeGreaterThan(5));

  for (const { file, input, check } of cases) {
    const { output, files } = render(input);
    it(`${file}: renders as expected`, () => check(output));

    // Error cases render nothing, and a case marked `nginx_check: false` (an origin hostname,
    // which nginx -t would resolve without DNS here) is checked for its text only.
    if (files === null || input.nginx_check === false) continue;
    it(`${file}: nginx -t accepts it`, async () => {
      const r = await checkNginxConfig(files, {
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

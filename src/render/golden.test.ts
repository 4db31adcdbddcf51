// Golden nginx configs: the shared corpus (src/render/golden-cases/, see test/support/golden.ts)
// rendered by renderNginx, compared with src/render/golden/<case>.txt. UPDATE_GOLDEN=1 rewrites
// them. Every golden output is also checked with a real `nginx -t`.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileEdgePlan } from '../compile/index.js';
import { parseSpec } from '../spec/index.js';
import { checkNginxConfig } from '../proxy-check/nginx-check.js';
import {
  goldenCases,
  orphanOutputs,
  renderGolden,
  type GoldenInput,
} from '../../test/support/golden.js';
import { renderNginx } from './nginx.js';
import { GEOIP_ASN_PATH, GEOIP_COUNTRY_PATH } from '../bundle/layout.js';
import { testGeoipDatabase } from '../../test/support/geoip.js';

const DIR = join(import.meta.dirname, 'golden');
const NGINX = '/usr/sbin/nginx';

const render = (input: GoldenInput) =>
  renderGolden(() =>
    renderNginx(compileEdgePlan(parseSpec(input.spec), input.edge), {
      release: input.release ?? 1,
      certificates: input.certificates ?? [],
      ...(input.staples !== undefined ? { staples: input.staples } : {}),
      ...(input.acme_challenge_url !== undefined
        ? { acmeChallengeUrl: input.acme_challenge_url }
        : {}),
      ...(input.geoip !== undefined
        ? { geoip: { country: input.geoip.country, asn: input.geoip.asn } }
        : {}),
    }),
  );

/** The databases a case's release holds, for nginx -t (which opens them): test ones. */
function geoipFiles(input: GoldenInput): { path: string; content: Buffer }[] {
  if (input.geoip === undefined) return [];
  const db = testGeoipDatabase([{ network: '127.0.0.0/8', country: 'DE', asn: 64500 }]);
  return [
    ...(input.geoip.country ? [{ path: GEOIP_COUNTRY_PATH, content: db }] : []),
    ...(input.geoip.asn === 'asn' ? [{ path: GEOIP_ASN_PATH, content: db }] : []),
  ];
}

const cases = goldenCases('nginx', DIR);

describe('golden nginx configs', () => {
  it('has cases, and no expected output without its case', () => {
    expect(cases.length).toBeGreaterThan(5);
    expect(orphanOutputs('nginx', DIR)).toEqual([]);
  });

  for (const { name, input, check } of cases) {
    const { output, files } = render(input);
    it(`${name}: renders as expected`, () => check(output));

    // Error cases render nothing, and a case marked `check: false` (an origin hostname,
    // which nginx -t would resolve without DNS here) is checked for its text only.
    if (files === null || input.renderers.nginx?.check === false) continue;
    it(`${name}: nginx -t accepts it`, async () => {
      const r = await checkNginxConfig([...files, ...geoipFiles(input)], {
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

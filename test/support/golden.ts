// Golden files of the renderers: ONE input corpus, one expected output per renderer.
//
//   src/render/golden-cases/<case>.yaml   the input (edge, release, certificates, spec, …) and
//                                         `renderers:`, the renderers that render it, each with
//                                         its options (`check: false`, caddy's `cache: true`)
//   src/render/golden/<case>.txt          what renderNginx gives for it
//   src/render/golden-caddy/<case>.txt    what renderCaddy gives for it
//
// An expected file holds the files as one text (`==== path ====` headers) or
// `!error <message>`. With UPDATE_GOLDEN=1 every expected output is rewritten from what the
// renderer gives now; a case without its expected file is recorded and fails once, so a missing
// expectation is never a pass; an expected file without its case fails (nothing stale stays).
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { parse } from 'yaml';

const UPDATE = process.env.UPDATE_GOLDEN === '1';
export const GOLDEN_CASES = join(import.meta.dirname, '..', '..', 'src', 'render', 'golden-cases');

export interface RenderedFileLike {
  path: string;
  content: string;
}

/** One input of the corpus (the YAML of a golden-cases file). */
export interface GoldenInput {
  edge: string;
  release?: number;
  certificates?: string[];
  /** Domains whose OCSP response is in the release (renderNginx's staples). */
  staples?: string[];
  /** The renderers' acmeChallengeUrl (the control plane answering HTTP-01). */
  acme_challenge_url?: string;
  /** The client-geography databases in the release (renderNginx's geoip; issue 16). */
  geoip?: { country: boolean; asn?: 'asn' | 'country' };
  spec: unknown;
  renderers: {
    /** check: false for an origin hostname, which nginx -t would resolve without DNS here. */
    nginx?: { check?: boolean };
    /** cache: render for a Caddy with the cache module (which the distribution's is not). */
    caddy?: { cache?: boolean; check?: boolean };
  };
}

export type GoldenRenderer = keyof GoldenInput['renderers'];

export interface GoldenCase {
  name: string;
  input: GoldenInput;
  /** Compares `output` with the expected text, or records it (update mode, new case). */
  check: (output: string) => void;
}

/** The corpus cases `renderer` renders, each checked against `<outputDir>/<case>.txt`. */
export function goldenCases(renderer: GoldenRenderer, outputDir: string): GoldenCase[] {
  return corpusNames()
    .map((name) => ({
      name,
      input: parse(readFileSync(join(GOLDEN_CASES, `${name}.yaml`), 'utf8')) as GoldenInput,
    }))
    .filter(({ input }) => input.renderers[renderer] !== undefined)
    .map(({ name, input }) => {
      const path = join(outputDir, `${name}.txt`);
      const expected = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
      return {
        name,
        input,
        check: (output: string) => {
          if (!UPDATE && expected !== undefined) return expect(output).toBe(expected);
          writeFileSync(path, output);
          // A new case passes only once its recorded output has been looked at and committed.
          if (!UPDATE)
            throw new Error(`${name}: new golden case, output recorded; review it and run again`);
        },
      };
    });
}

/** Expected outputs in `outputDir` that no case of the corpus gives `renderer`. */
export function orphanOutputs(renderer: GoldenRenderer, outputDir: string): string[] {
  const names = new Set(goldenCases(renderer, outputDir).map((c) => c.name));
  return readdirSync(outputDir)
    .filter((f) => f.endsWith('.txt') && !names.has(f.slice(0, -4)))
    .sort();
}

function corpusNames(): string[] {
  return readdirSync(GOLDEN_CASES)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -5))
    .sort();
}

/** Files as one text (`==== path ====` headers), or `!error <message>` when rendering throws. */
export function renderGolden<F extends RenderedFileLike>(
  render: () => F[],
): { output: string; files: F[] | null } {
  try {
    const files = render();
    return { output: files.map((f) => `==== ${f.path} ====\n${f.content}`).join(''), files };
  } catch (e) {
    return { output: `!error ${(e as Error).message}\n`, files: null };
  }
}

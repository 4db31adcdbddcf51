// One `nginx -t` per distinct checked rendering (issue 14). With checks on, the bundle builder
// used to run nginx -t once per edge, although edges that serve the same sites have the same
// rendering but for three edge values: its name, its release number, and its listen lines.
//
// What the key covers: every file nginx reads in the check, by path and content hash (the
// edge's own files, the sites' files, staples, databases), the domains given throwaway
// certificates, the main nginx.conf, and the nginx binary. Nothing nginx reads is left out,
// so two renderings with one key are the same bytes to nginx: its verdict is the same.
//
// How edges come to share a key: the builder checks a rendering of the edge's own files with
// a fixed edge name and release number (CHECK_EDGE, CHECK_RELEASE), not the edge's. Both are
// inert for validity: the name is a Name (1-63 of [a-z0-9-], spec/primitives.ts) written into
// a comment and a quoted nginx string, the release a number in a quoted string and a
// directory name. The listen lines are NOT normalised: `nginx -t` binds every listen address
// (measured: `bind() to 10.99.99.99:8080 failed (99: Cannot assign requested address)`), so
// edges with different addresses or ports are checked apart. Edges with the same listen
// settings (the default: all addresses) and the same sites share one check.
//
// Results are kept across builds in a bounded LRU, so a one-site change re-checks only the
// renderings that changed. A timeout is no verdict: it is reused within the build that saw it
// (not once more per edge) and checked again by the next build.
import { createHash } from 'node:crypto';
import type { CheckNginxResult } from './nginx-check.js';

/** The edge name of the checked rendering (see the file comment). */
export const CHECK_EDGE = 'check';
/** The release number of the checked rendering. */
export const CHECK_RELEASE = 1;

export interface CheckKeyInput {
  /** The nginx binary. */
  nginx: string;
  /** The main nginx.conf of the check. */
  mainConf: string;
  /** Domains given a throwaway certificate. */
  certificates: readonly string[];
  /** Every release file of the check, by path and content hash. */
  files: readonly { path: string; sha256: string }[];
}

/** The hash of everything nginx -t reads in the check. */
export function nginxCheckKey(input: CheckKeyInput): string {
  const h = createHash('sha256');
  const field = (s: string) => {
    h.update(`${Buffer.byteLength(s)}:`);
    h.update(s);
  };
  field(input.nginx);
  field(input.mainConf);
  const certificates = [...input.certificates].sort();
  field(String(certificates.length));
  for (const c of certificates) field(c);
  const files = [...input.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  field(String(files.length));
  for (const f of files) {
    field(f.path);
    field(f.sha256);
  }
  return h.digest('hex');
}

interface Entry {
  result: CheckNginxResult;
  build: number;
}

export interface CheckCacheCounts {
  /** nginx -t runs. */
  runs: number;
  /** Checks answered from a kept result. */
  reused: number;
}

/** Kept nginx -t verdicts by check key, at most `max` of them (least recently used first out). */
export class NginxCheckCache {
  private readonly entries = new Map<string, Entry>();
  private readonly counts: CheckCacheCounts = { runs: 0, reused: 0 };

  constructor(private readonly max = 1024) {
    if (!Number.isInteger(max) || max < 1) throw new Error('NginxCheckCache: max must be ≥ 1');
  }

  /**
   * The verdict for `key`: a kept one (a pass or a refusal; a timeout only within `build`), or
   * the result of `run()`, kept.
   */
  async check(
    key: string,
    build: number,
    run: () => Promise<CheckNginxResult>,
  ): Promise<{ result: CheckNginxResult; reused: boolean }> {
    const kept = this.entries.get(key);
    if (kept !== undefined && (!kept.result.timedOut || kept.build === build)) {
      // Most recently used last: Map keeps insertion order.
      this.entries.delete(key);
      this.entries.set(key, kept);
      this.counts.reused++;
      return { result: kept.result, reused: true };
    }
    this.counts.runs++;
    const result = await run();
    this.entries.delete(key);
    this.entries.set(key, { result, build });
    while (this.entries.size > this.max) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    return { result, reused: false };
  }

  /** How many verdicts are kept. */
  get size(): number {
    return this.entries.size;
  }

  /** nginx -t runs and reuses since this cache was made. */
  stats(): CheckCacheCounts {
    return { ...this.counts };
  }
}

// The check key and the bounded verdict cache (issue 14); the builder's use of them, with a
// real nginx -t, is in edges/builder.test.ts.
import { describe, expect, it } from 'vitest';
import { NginxCheckCache, nginxCheckKey, type CheckKeyInput } from './check-cache.js';
import type { CheckNginxResult } from './nginx-check.js';

const input: CheckKeyInput = {
  nginx: '/usr/sbin/nginx',
  mainConf: 'events {}\n',
  certificates: ['a.test', 'b.test'],
  files: [
    { path: 'nginx/edge.conf', sha256: 'aa' },
    { path: 'nginx/sites/a.test.conf', sha256: 'bb' },
  ],
};
const verdict = (ok: boolean, timedOut = false): CheckNginxResult => ({
  ok,
  timedOut,
  timeoutMs: 1000,
  ms: 1,
  output: ok ? '' : 'refused',
});

describe('nginxCheckKey', () => {
  it('covers every part nginx reads, whatever the order they are listed in', () => {
    const key = nginxCheckKey(input);
    expect(
      nginxCheckKey({
        ...input,
        certificates: ['b.test', 'a.test'],
        files: [...input.files].reverse(),
      }),
    ).toBe(key);
    const changed: CheckKeyInput[] = [
      { ...input, nginx: '/usr/local/sbin/nginx' },
      { ...input, mainConf: 'events { }\n' },
      { ...input, certificates: ['a.test'] },
      { ...input, files: [{ ...input.files[0]!, sha256: 'ab' }, input.files[1]!] },
      { ...input, files: [{ ...input.files[0]!, path: 'nginx/edge2.conf' }, input.files[1]!] },
      { ...input, files: [input.files[0]!] },
      // No field can run into the next one.
      { ...input, certificates: ['a.test', 'b.test1'], files: input.files.slice(1) },
    ];
    for (const c of changed) expect(nginxCheckKey(c)).not.toBe(key);
  });
});

describe('NginxCheckCache', () => {
  it('runs once per key, keeps passes and refusals across builds, and at most `max` of them', async () => {
    const cache = new NginxCheckCache(2);
    let runs = 0;
    const run = (ok: boolean) => () => {
      runs++;
      return Promise.resolve(verdict(ok));
    };
    expect((await cache.check('a', 1, run(true))).reused).toBe(false);
    expect(await cache.check('a', 2, run(true))).toMatchObject({
      reused: true,
      result: { ok: true },
    });
    expect(await cache.check('b', 2, run(false))).toMatchObject({
      reused: false,
      result: { ok: false, output: 'refused' },
    });
    expect(await cache.check('b', 3, run(true))).toMatchObject({
      reused: true,
      result: { ok: false },
    });
    expect(runs).toBe(2);
    // 'a' was used before 'b': the least recently used goes when 'c' comes.
    await cache.check('a', 3, run(true));
    await cache.check('c', 3, run(true));
    expect(cache.size).toBe(2);
    expect((await cache.check('b', 3, run(false))).reused).toBe(false);
    expect(cache.stats()).toEqual({ runs: 4, reused: 3 });
  });

  it('reuses a timeout only within the build that saw it', async () => {
    const cache = new NginxCheckCache();
    let runs = 0;
    const run = () => {
      runs++;
      return Promise.resolve(verdict(false, true));
    };
    await cache.check('k', 1, run);
    expect((await cache.check('k', 1, run)).result.timedOut).toBe(true);
    expect(runs).toBe(1);
    await cache.check('k', 2, run);
    expect(runs).toBe(2);
  });

  it('refuses a bound below one', () => {
    expect(() => new NginxCheckCache(0)).toThrow('max must be ≥ 1');
  });
});

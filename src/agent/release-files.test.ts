// Kept releases share their equal files by hard link (issue 14), on the real file system.
import { lstat, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex, type ResolvedFile } from '../bundle/index.js';
import { writeReleaseDir } from './release-files.js';

const file = (
  path: string,
  content: Buffer | string,
  mode: 0o644 | 0o600 = 0o644,
): ResolvedFile => {
  const c = Buffer.isBuffer(content) ? content : Buffer.from(content);
  return { path, mode, sha256: sha256Hex(c), size: c.length, content: c };
};

describe('writeReleaseDir', () => {
  let root: string;
  const db = Buffer.alloc(8 * 1024 * 1024, 7);
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'outpost-release-files-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('hard-links a file equal to the live release’s, writes the rest, and an old release can go', async () => {
    const r1 = join(root, '1');
    const r2 = join(root, '2');
    expect(
      await writeReleaseDir(r1, [file('geoip/country.mmdb', db), file('nginx/a.conf', 'one')], []),
    ).toEqual({ linked: 0, written: 2 });
    expect(
      await writeReleaseDir(
        r2,
        [file('geoip/country.mmdb', db), file('nginx/a.conf', 'two')],
        [r1],
      ),
    ).toEqual({ linked: 1, written: 1 });
    const [a, b] = [
      await stat(join(r1, 'geoip/country.mmdb')),
      await stat(join(r2, 'geoip/country.mmdb')),
    ];
    expect(b.ino).toBe(a.ino);
    expect(b.nlink).toBe(2);
    expect((await stat(join(r2, 'nginx/a.conf'))).ino).not.toBe(
      (await stat(join(r1, 'nginx/a.conf'))).ino,
    );
    expect(await readFile(join(r2, 'nginx/a.conf'), 'utf8')).toBe('two');
    // Pruning the old release drops one link: the live one keeps its bytes.
    await rm(r1, { recursive: true, force: true });
    expect((await readFile(join(r2, 'geoip/country.mmdb'))).equals(db)).toBe(true);
    expect((await stat(join(r2, 'geoip/country.mmdb'))).nlink).toBe(1);
  });

  it('looks in every kept release, the first one listed first', async () => {
    const [r1, r2, r3] = [join(root, '1'), join(root, '2'), join(root, '3')];
    await writeReleaseDir(r1, [file('x', 'old')], []);
    await writeReleaseDir(r2, [file('x', 'new')], []);
    expect(await writeReleaseDir(r3, [file('x', 'old')], [r2, r1])).toEqual({
      linked: 1,
      written: 0,
    });
    expect((await stat(join(r3, 'x'))).ino).toBe((await stat(join(r1, 'x'))).ino);
  });

  it('does not share a damaged kept file, one of another mode, or a symlink', async () => {
    const r1 = join(root, '1');
    await writeReleaseDir(r1, [file('a', 'same size'), file('k', 'key', 0o600)], []);
    // Damaged in place (same size, other bytes): compared byte for byte, not by name.
    await writeFile(join(r1, 'a'), 'SAME SIZE');
    // A symlink to an equal file is not a release file.
    await writeFile(join(root, 'outside'), 'linked');
    await symlink(join(root, 'outside'), join(r1, 's'));
    const r2 = join(root, '2');
    expect(
      await writeReleaseDir(
        r2,
        [file('a', 'same size'), file('k', 'key', 0o644), file('s', 'linked')],
        [r1],
      ),
    ).toEqual({ linked: 0, written: 3 });
    expect((await lstat(join(r2, 's'))).isFile()).toBe(true);
    expect(await readFile(join(r2, 'a'), 'utf8')).toBe('same size');
    expect((await stat(join(r2, 'k'))).mode & 0o777).toBe(0o644);
  });

  it('writes the file when the link cannot be made (EXDEV: another file system)', async () => {
    // /dev/shm is a tmpfs: a link from it into the temporary directory fails with EXDEV.
    const shm = await mkdtemp('/dev/shm/outpost-release-files-');
    try {
      await writeReleaseDir(shm, [file('geoip/country.mmdb', db)], []);
      expect((await stat(shm)).dev).not.toBe((await stat(root)).dev);
      const r2 = join(root, '2');
      expect(await writeReleaseDir(r2, [file('geoip/country.mmdb', db)], [shm])).toEqual({
        linked: 0,
        written: 1,
      });
      expect((await readFile(join(r2, 'geoip/country.mmdb'))).equals(db)).toBe(true);
      expect((await stat(join(r2, 'geoip/country.mmdb'))).nlink).toBe(1);
    } finally {
      await rm(shm, { recursive: true, force: true });
    }
  });
});

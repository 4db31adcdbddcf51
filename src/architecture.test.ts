// The module map of docs/architecture.md, enforced: every import of every src/**/*.ts(x) file
// (type imports included) must be allowed by the module table there. The table is read from
// the markdown itself, so the document and this test cannot disagree.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(SRC, '..');
const DOC = join(ROOT, 'docs', 'architecture.md');

export interface ModuleRule {
  folder: string;
  mayImport: string[];
  testsMayImport: string[];
  /** Its row in the table (1-based line of docs/architecture.md). */
  line: number;
}

/** Backticked names of a cell; `—` (or nothing) is the empty list. */
function names(cell: string): string[] {
  return [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? '');
}

/** The rows of the table under `## Modules` (folder, owns, may import, tests may also import). */
export function readModuleTable(markdown: string): ModuleRule[] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.trim() === '## Modules');
  if (start < 0) throw new Error('docs/architecture.md has no "## Modules" section');
  const rules: ModuleRule[] = [];
  for (let i = start + 1; i < lines.length; i++) {
    const l = lines[i] ?? '';
    if (l.startsWith('## ')) break;
    if (!l.startsWith('|')) continue;
    const cells = l.split('|').slice(1, -1);
    if (cells.length !== 4) throw new Error(`docs/architecture.md:${i + 1}: expected 4 columns`);
    const folder = names(cells[0] ?? '')[0];
    if (folder === undefined) continue; // the header and the separator row
    rules.push({
      folder,
      mayImport: names(cells[2] ?? ''),
      testsMayImport: names(cells[3] ?? ''),
      line: i + 1,
    });
  }
  return rules;
}

export interface ImportUse {
  file: string;
  line: number;
  specifier: string;
}

const IMPORT =
  /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+|\bexport\s*\*\s*from\s*)['"]([^'"]+)['"]/g;

/** Every relative import (static, dynamic, type-only, re-export) of a source text. */
export function importsOf(file: string, text: string): ImportUse[] {
  const out: ImportUse[] = [];
  text.split('\n').forEach((l, i) => {
    for (const m of l.matchAll(IMPORT)) {
      const specifier = m[1] ?? '';
      if (specifier.startsWith('.')) out.push({ file, line: i + 1, specifier });
    }
  });
  return out;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.tsx?$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** The first folder under src/ of a path, or undefined for src/ itself. */
function folderOf(path: string): string | undefined {
  const rel = relative(SRC, path).split(sep);
  return rel.length > 1 ? rel[0] : undefined;
}

/** The imports the table forbids, each as `file:line: message`. */
export function violations(
  rules: readonly ModuleRule[],
  files: readonly { file: string; text: string }[],
): string[] {
  const byFolder = new Map(rules.map((r) => [r.folder, r]));
  const out: string[] = [];
  for (const { file, text } of files) {
    const from = folderOf(file);
    if (from === undefined) continue; // src/architecture.test.ts and the like
    const rule = byFolder.get(from);
    const at = relative(ROOT, file);
    if (rule === undefined) {
      out.push(`${at}:1: src/${from}/ has no row in the module table of docs/architecture.md`);
      continue;
    }
    const isTest = /\.test\.tsx?$/.test(file);
    for (const use of importsOf(file, text)) {
      const target = resolve(dirname(file), use.specifier);
      const where = `${at}:${use.line}: imports '${use.specifier}'`;
      if (relative(SRC, target).startsWith('..')) {
        const supportDir = join(ROOT, 'test', 'support');
        const fromRoot = relative(ROOT, target);
        if (isTest && !relative(supportDir, target).startsWith('..')) continue;
        if (fromRoot === 'package.json') continue;
        out.push(`${where}: only tests may reach outside src/, and only into test/support/`);
        continue;
      }
      const to = folderOf(target);
      if (to === undefined || to === from) continue;
      if (rule.mayImport.includes(to)) continue;
      if (isTest && rule.testsMayImport.includes(to)) continue;
      out.push(
        `${where}: ${from}/ may not import ${to}/ (${from} may import: ${
          rule.mayImport.join(', ') || 'nothing of ours'
        }; docs/architecture.md:${rule.line})`,
      );
    }
  }
  return out;
}

describe('the module map (docs/architecture.md)', () => {
  const rules = readModuleTable(readFileSync(DOC, 'utf8'));

  it('has a row for every folder of src/, and only for folders that exist', () => {
    const folders = readdirSync(SRC).filter((n) => statSync(join(SRC, n)).isDirectory());
    expect(rules.map((r) => r.folder).sort()).toEqual(folders.sort());
  });

  it('only lets a folder import folders listed above it (no cycles)', () => {
    const problems: string[] = [];
    rules.forEach((r, i) => {
      const above = new Set(rules.slice(0, i).map((x) => x.folder));
      for (const dep of r.mayImport)
        if (!above.has(dep))
          problems.push(
            `docs/architecture.md:${r.line}: ${r.folder} may import ${dep}, listed below it`,
          );
    });
    expect(problems).toEqual([]);
  });

  it('is obeyed by every import of src/', () => {
    const found = violations(
      rules,
      sourceFiles(SRC).map((file) => ({ file, text: readFileSync(file, 'utf8') })),
    );
    expect(found, `${found.length} imports against the map:\n${found.join('\n')}`).toEqual([]);
  });

  it('lets only config/ and the CLI entries (outpost, outpost-agent) read process.env', () => {
    const readers = sourceFiles(SRC)
      .filter((f) => !/\.test\.tsx?$/.test(f))
      .flatMap((file) =>
        readFileSync(file, 'utf8')
          .split('\n')
          .map((l, i) => ({ l, at: `${relative(ROOT, file)}:${i + 1}` }))
          .filter(({ l }) => /\bprocess\.env\b/.test(l) && !/^\s*(\/\/|\*)/.test(l))
          .map(({ at }) => at),
      )
      // vite.config.ts configures the UI's build tool; it is not part of a running Outpost.
      .filter(
        (at) =>
          !at.startsWith('src/config/') &&
          !at.startsWith('src/cli/main.ts:') &&
          !at.startsWith('src/cli/agent-main.ts:') &&
          !at.startsWith('src/web/vite.config.ts:'),
      );
    expect(readers, 'read the setting in config/ and inject it').toEqual([]);
  });

  it('catches an import the table forbids, naming file, line and rule', () => {
    const table = [
      '## Modules',
      '| folder | owns | may import | tests may also import |',
      '| --- | --- | --- | --- |',
      '| `spec` | shapes | — | — |',
      '| `render` | text | `spec` | — |',
      '| `agent` | the edge | `spec` | `render` |',
    ].join('\n');
    const small = readModuleTable(table);
    expect(small.map((r) => [r.folder, r.mayImport, r.testsMayImport])).toEqual([
      ['spec', [], []],
      ['render', ['spec'], []],
      ['agent', ['spec'], ['render']],
    ]);
    const text = [
      "import type { A } from '../spec/index.js';",
      "const r = await import('../render/nginx.js');",
      "export * from '../render/index.js';",
      "import { x } from '../../test/support/tls.js';",
    ].join('\n');
    expect(violations(small, [{ file: join(SRC, 'agent', 'x.ts'), text }])).toEqual([
      "src/agent/x.ts:2: imports '../render/nginx.js': agent/ may not import render/ (agent may import: spec; docs/architecture.md:6)",
      "src/agent/x.ts:3: imports '../render/index.js': agent/ may not import render/ (agent may import: spec; docs/architecture.md:6)",
      "src/agent/x.ts:4: imports '../../test/support/tls.js': only tests may reach outside src/, and only into test/support/",
    ]);
    // A test of the same folder may use its extra column and test/support.
    expect(violations(small, [{ file: join(SRC, 'agent', 'x.test.ts'), text }])).toEqual([]);
    expect(violations(small, [{ file: join(SRC, 'cli', 'x.ts'), text: '' }])).toEqual([
      'src/cli/x.ts:1: src/cli/ has no row in the module table of docs/architecture.md',
    ]);
  });
});

// The documentation, run: every fenced block of README.md and docs/*.md has a language, and
// every shell block says whether it runs here. `<!-- runnable -->` (or `<!-- runnable: exit N
// -->`) before the fence: the block runs in bash (-e, pipefail) against a real control plane
// this test starts, with `outpost` (and `npx outpost`) the checkout's CLI, the two variables
// of the README exported, and control-plane URLs rewritten to it; its exit code must be 0 (or
// N). `<!-- output -->` before the next block (text): each of its lines must appear in the
// command's output, in order (`…` stands for anything). `<!-- not-runnable: reason -->`: listed
// with its reason. An unmarked shell block, or a block without a language, fails the test.
// docs/development.md describes the markers.
//
// What the docs assume you have is set up here, outside the blocks: README.md runs first on a
// new, empty control plane; before each other file the state below is applied (the names the
// docs use: site shop.example.com served by edge fra, DNS at the GCore stand-in), with a real
// agent and nginx for fra on loopback, so purges really reach an edge; the working directory
// holds examples/ and fullchain.pem / privkey.pem for shop.example.com.
import { spawn } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCdn } from '../support/cdn.js';
import { startGcoreApi, type GcoreStandIn } from '../support/gcore-api.js';
import { cleanEnv, OUTPOST_BIN, ROOT } from '../support/processes.js';
import { selfSignedCertificate } from '../support/tls.js';

const GCORE_KEY = 'docs$run$key';
/** A shell block takes longer than this only when something hangs. */
const BLOCK_TIMEOUT_MS = 90_000;
const SHELLS = new Set(['sh', 'bash', 'shell', 'console', 'zsh']);

type Marker =
  | { kind: 'runnable'; exit: number }
  | { kind: 'not-runnable'; reason: string }
  | { kind: 'output' };

interface Block {
  file: string;
  line: number;
  lang: string;
  body: string;
  marker: Marker | undefined;
  /** The `<!-- output -->` block after a runnable one. */
  output?: Block;
}

/** A marker comment, as the line before a fence spells it. */
function parseMarker(line: string): Marker | undefined | 'bad' {
  const m = /^\s*<!--\s*(.*?)\s*-->\s*$/.exec(line);
  if (!m) return undefined;
  const text = m[1] ?? '';
  let r: RegExpExecArray | null;
  if (text === 'runnable') return { kind: 'runnable', exit: 0 };
  if ((r = /^runnable: exit (\d+)$/.exec(text))) return { kind: 'runnable', exit: Number(r[1]) };
  if ((r = /^not-runnable: (\S.*)$/.exec(text))) return { kind: 'not-runnable', reason: r[1]! };
  if (text === 'output') return { kind: 'output' };
  return /run|output/.test(text) ? 'bad' : undefined;
}

/** The fenced blocks of a Markdown file, and what is wrong with their markers. */
export function readBlocks(file: string): { blocks: Block[]; problems: string[] } {
  const name = relative(ROOT, file);
  const lines = readFileSync(file, 'utf8').split('\n');
  const blocks: Block[] = [];
  const problems: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)\s*$/.exec(lines[i] ?? '');
    if (!open) continue;
    const fence = open[2] ?? '```';
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !new RegExp(`^\\s*${fence}\\s*$`).test(lines[i] ?? ''); i++)
      body.push((lines[i] ?? '').slice((open[1] ?? '').length));
    let prev = start - 1;
    while (prev >= 0 && (lines[prev] ?? '').trim() === '') prev--;
    const marker = prev >= 0 ? parseMarker(lines[prev] ?? '') : undefined;
    const where = `${name}:${start + 1}`;
    const lang = open[3] ?? '';
    if (marker === 'bad') {
      problems.push(`${where}: unknown marker ${lines[prev]?.trim()}`);
      continue;
    }
    const block: Block = { file: name, line: start + 1, lang, body: body.join('\n'), marker };
    if (lang === '')
      problems.push(`${where}: a block without a language (sh for commands, text for output, …)`);
    else if (SHELLS.has(lang) && (marker === undefined || marker.kind === 'output'))
      problems.push(
        `${where}: a shell block needs <!-- runnable --> or <!-- not-runnable: reason --> before it`,
      );
    else if (!SHELLS.has(lang) && marker !== undefined && marker.kind !== 'output')
      problems.push(`${where}: only shell blocks run; this one is ${lang}`);
    if (marker?.kind === 'output') {
      const last = blocks.at(-1);
      if (last?.marker?.kind !== 'runnable' || last.output !== undefined)
        problems.push(`${where}: <!-- output --> must follow a runnable block`);
      else last.output = block;
    }
    blocks.push(block);
  }
  return { blocks, problems };
}

/** Each expected line (`…`: anything) matches an output line, in order. */
function missingLines(expected: string, output: string): string[] {
  const got = output.split('\n').map((l) => l.trimEnd());
  const missing: string[] = [];
  let at = 0;
  for (const want of expected.split('\n').map((l) => l.trimEnd())) {
    if (want.trim() === '') continue;
    const re = new RegExp(
      `^${want
        .split('…')
        .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
    );
    const found = got.findIndex((l, j) => j >= at && re.test(l));
    if (found < 0) missing.push(want);
    else at = found + 1;
  }
  return missing;
}

interface Ran {
  code: number | null;
  output: string;
  ms: number;
}

function runShell(script: string, cwd: string, env: Record<string, string>): Promise<Ran> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-e', '-o', 'pipefail', '-c', script], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      output += `\n[killed after ${BLOCK_TIMEOUT_MS} ms]`;
      child.kill('SIGKILL');
    }, BLOCK_TIMEOUT_MS);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, ms: Date.now() - started });
    });
  });
}

const mdIn = (dir: string) =>
  readdirSync(join(ROOT, dir))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => join(ROOT, dir, f));

// README.md first (it runs without the fixture), then the translations (README.zh-CN.md,
// docs/zh-CN/), whose blocks are checked for their language and marker like the others.
const FILES = [
  join(ROOT, 'README.md'),
  join(ROOT, 'README.zh-CN.md'),
  ...mdIn('docs'),
  ...mdIn('docs/zh-CN'),
];

describe('the documentation runs as written', () => {
  let cdn: TestCdn<'fra'>;
  let gcore: GcoreStandIn;
  let work = '';
  let env: Record<string, string> = {};

  /** What the docs other than README.md assume exists. */
  const fixture = () => `edges:
${cdn.edgeYaml('fra')}    meta: { countries: [DE], latlong: [50.1, 8.7] }
sites:
  - domain: shop.example.com
    aliases: [www.shop.example.com]
    # Nothing listens there: the edge answers 502, and purges find an empty cache.
    origins: [{ host: { v4: 127.0.0.1 }, port: 9, protocol: http }]
    tls: { acme: false }
dns:
  provider: gcore
  api_token: env:GCORE_KEY
  api_url: ${gcore.apiUrl}
`;

  beforeAll(async () => {
    gcore = await startGcoreApi({ apiKey: GCORE_KEY, zones: ['example.com'] });
    cdn = new TestCdn({ edges: { fra: '127.0.0.61' }, serveEnv: { GCORE_KEY } });
    await cdn.start();
    work = join(cdn.tmp.path, 'work');
    const bin = join(cdn.tmp.path, 'bin');
    mkdirSync(work);
    mkdirSync(bin);
    symlinkSync(join(ROOT, 'examples'), join(work, 'examples'));
    const pem = selfSignedCertificate(cdn.tmp.path, ['shop.example.com', 'www.shop.example.com']);
    writeFileSync(join(work, 'fullchain.pem'), readFileSync(pem.certFile));
    writeFileSync(join(work, 'privkey.pem'), readFileSync(pem.keyFile), { mode: 0o600 });
    // `outpost` on PATH is the checkout's CLI.
    writeFileSync(
      join(bin, 'outpost'),
      `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(OUTPOST_BIN)} "$@"\n`,
    );
    chmodSync(join(bin, 'outpost'), 0o755);
    const base = cleanEnv();
    env = { ...base, ...cdn.adminEnv, PATH: `${bin}:${base.PATH ?? '/usr/bin:/bin'}` };
  }, 120_000);

  afterAll(async () => {
    await cdn?.close();
    await gcore?.stop();
  });

  it('every block has a language, every shell block a marker, and the runnable ones pass', async () => {
    const problems: string[] = [];
    const rows: string[] = [];
    const notRunnable: string[] = [];
    let agentStarted = false;
    const started = Date.now();
    for (const file of FILES) {
      const read = readBlocks(file);
      problems.push(...read.problems);
      for (const b of read.blocks)
        if (b.marker?.kind === 'not-runnable')
          notRunnable.push(`${b.file}:${b.line}: ${b.marker.reason}`);
      const runnable = read.blocks.filter((b) => b.marker?.kind === 'runnable');
      if (runnable.length === 0) continue;
      if (!file.endsWith('/README.md')) {
        await cdn.apply(fixture());
        if (!agentStarted) {
          await cdn.startAgents();
          agentStarted = true;
        } else await cdn.allApplied();
      }
      for (const b of runnable) {
        const want = b.marker?.kind === 'runnable' ? b.marker.exit : 0;
        const script = b.body
          .replace(/\bnpx outpost\b/g, 'outpost')
          .replace(/https?:\/\/(?:cp\.example\.com|CONTROL-PLANE)\b/g, cdn.cpUrl);
        const ran = await runShell(script, work, env);
        const where = `${b.file}:${b.line}`;
        const missing = b.output ? missingLines(b.output.body, ran.output) : [];
        const passed = ran.code === want && missing.length === 0;
        rows.push(
          `${passed ? 'ok  ' : 'FAIL'}  ${where.padEnd(26)} exit ${String(ran.code).padEnd(4)} ${String(ran.ms).padStart(6)} ms${b.output ? `  output checked (${b.output.file}:${b.output.line})` : ''}`,
        );
        if (ran.code !== want)
          problems.push(`${where}: exit ${ran.code}, expected ${want}; output:\n${ran.output}`);
        if (missing.length > 0)
          problems.push(
            `${where}: the output lacks (in order):\n  ${missing.join('\n  ')}\noutput:\n${ran.output}`,
          );
      }
    }
    process.stdout.write(
      `\nRunnable blocks (${rows.length}, ${Date.now() - started} ms):\n${rows.join('\n')}\n` +
        `Not runnable here (${notRunnable.length}):\n  ${notRunnable.join('\n  ')}\n`,
    );
    expect(problems).toEqual([]);
    expect(rows.length).toBeGreaterThanOrEqual(10);
  }, 300_000);

  it('the markers are enforced: an unmarked shell block or a block without a language fails', () => {
    const file = join(cdn.tmp.path, 'bad.md');
    writeFileSync(
      file,
      [
        '```sh',
        'outpost status',
        '```',
        '',
        '```',
        'plain',
        '```',
        '<!-- not-runnable: a file -->',
        '```yaml',
        'a: 1',
        '```',
        '<!-- output -->',
        '```text',
        'x',
        '```',
        '<!-- runable -->',
        '```sh',
        'true',
        '```',
        '<!-- not-runnable: needs a real machine -->',
        '```sh',
        'reboot',
        '```',
      ].join('\n'),
    );
    const { blocks, problems } = readBlocks(file);
    const name = relative(ROOT, file);
    expect(problems).toEqual([
      `${name}:1: a shell block needs <!-- runnable --> or <!-- not-runnable: reason --> before it`,
      `${name}:5: a block without a language (sh for commands, text for output, …)`,
      `${name}:9: only shell blocks run; this one is yaml`,
      `${name}:13: <!-- output --> must follow a runnable block`,
      `${name}:17: unknown marker <!-- runable -->`,
    ]);
    expect(blocks.at(-1)?.marker).toEqual({ kind: 'not-runnable', reason: 'needs a real machine' });
    expect(missingLines('a: …\nc', 'a: 1\nb\nc\n')).toEqual([]);
    expect(missingLines('c\na: …', 'a: 1\nb\nc\n')).toEqual(['a: …']);
  });
});

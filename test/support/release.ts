// The release artefacts the end-to-end tests run: dist/ (the compiled package) and the one-file
// agent. CI builds them first (`npm run release` in .ci/run); a developer's run builds what is
// stale, once, under a lock shared by the test files that need it.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './processes.js';

const run = promisify(execFile);

/** Where `npm run release` leaves the agent executable for this machine. */
export const AGENT_EXECUTABLE = join(ROOT, 'dist', `outpost-agent-linux-${process.arch}`);
/** The compiled CLI (`outpost` without tsx). */
export const COMPILED_CLI = join(ROOT, 'dist', 'cli', 'main.js');

/** Builds dist/ and the agent executable unless they are newer than every source (≤ 10 min). */
export async function buildReleaseIfStale(): Promise<void> {
  await run(
    'flock',
    [join(ROOT, 'dist.lock'), 'bash', join(ROOT, 'scripts', 'release.sh'), 'if-stale'],
    { cwd: ROOT, timeout: 600_000 },
  );
}

#!/usr/bin/env node
// Launcher: a checkout (src/ present, with its dev dependencies) runs the TypeScript sources
// through tsx, so what runs is always what is in the tree; an installed package or the release
// tarball (no src/) runs the compiled dist/ (`npm run build`). tsx is a dev dependency: a
// checkout installed without dev dependencies runs dist/ when it has been built.
import { existsSync } from 'node:fs';
import process from 'node:process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'src', 'cli', 'main.ts');
const compiled = join(root, 'dist', 'cli', 'main.js');

async function tsx() {
  try {
    return await import('tsx/esm/api');
  } catch {
    return undefined;
  }
}

const api = existsSync(source) ? await tsx() : undefined;
if (api) {
  api.register();
  await import(pathToFileURL(source).href);
} else if (existsSync(compiled)) {
  await import(pathToFileURL(compiled).href);
} else {
  process.stderr.write(
    'outpost: this checkout has neither tsx (run `npm ci`) nor a build (run `npm run build`)\n',
  );
  process.exitCode = 1;
}

// Golden files: `<dir>/<case>.txt` holds the input (YAML), the separator line, then the expected
// output. With UPDATE_GOLDEN=1 every case is rewritten from what the renderer gives now; a case
// without the separator is recorded and fails once, so a missing expectation is never a pass.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { parse } from 'yaml';

const SEPARATOR = '---- expected ----\n';
const UPDATE = process.env.UPDATE_GOLDEN === '1';

export interface RenderedFileLike {
  path: string;
  content: string;
}

export interface GoldenCase<I> {
  file: string;
  input: I;
  /** Compares `output` with the expected text, or records it (update mode, new case). */
  check: (output: string) => void;
}

export function goldenCases<I>(dir: string): GoldenCase<I>[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((file) => {
      const path = join(dir, file);
      const text = readFileSync(path, 'utf8');
      const at = text.indexOf(SEPARATOR);
      const inputText = at === -1 ? text : text.slice(0, at);
      const expected = at === -1 ? '' : text.slice(at + SEPARATOR.length);
      return {
        file,
        input: parse(inputText) as I,
        check: (output: string) => {
          if (!UPDATE && at !== -1) return expect(output).toBe(expected);
          writeFileSync(path, `${inputText.replace(/\n*$/, '\n')}${SEPARATOR}${output}`);
          // A new case passes only once its recorded output has been looked at and committed.
          if (!UPDATE)
            throw new Error(`${file}: new golden case, output recorded; review it and run again`);
        },
      };
    });
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

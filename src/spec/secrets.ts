// Secret references (`env:NAME`, `file:/path`) are resolved only where a secret is used, from
// the variables the process was given (injected, never read from process.env here). The value
// never passes through a shell and is never logged.
import { readFileSync } from 'node:fs';

export class SecretError extends Error {
  readonly code = 'secret_unavailable';
}

export function resolveSecret(
  ref: string,
  vars: Readonly<Record<string, string | undefined>>,
): string {
  if (ref.startsWith('env:')) {
    const name = ref.slice(4);
    const value = vars[name];
    if (value === undefined || value === '')
      throw new SecretError(`the environment variable ${name} is not set`);
    return value;
  }
  if (ref.startsWith('file:')) {
    const path = ref.slice(5);
    try {
      return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new SecretError(
        `cannot read the secret file ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  }
  throw new SecretError('a secret must be given as env:NAME or file:/path');
}

// Quoting and escaping for everything the nginx renderer emits. The spec already rejects
// unsafe characters; these helpers are the second wall: every value from the spec goes
// through one of them, so no value can end a token, a directive or a block.

/** A value the renderer refuses to emit (a control character slipped past the spec). */
export class RenderError extends Error {
  readonly code = 'unsafe_value';
  constructor(message: string) {
    super(message);
    this.name = 'RenderError';
  }
}

/** Defined in edge.conf: `geo $outpost_dollar { default "$"; }`, nginx has no `\$` escape. */
export const DOLLAR_VARIABLE = 'outpost_dollar';

function refuseControl(value: string, what: string): void {
  const bad = /[\0-\x1f\x7f]/.exec(value);
  if (bad !== null)
    throw new RenderError(
      `${what} contains a control character (0x${bad[0].charCodeAt(0).toString(16).padStart(2, '0')})`,
    );
}

/**
 * A double-quoted nginx string for a directive argument that is NOT a variable context
 * (server_name, map keys and regexes, file paths): `\` and `"` are escaped, nothing else
 * is special inside quotes.
 */
export function nginxLiteral(value: string): string {
  refuseControl(value, 'a value');
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * A double-quoted nginx string for an argument where nginx expands variables (add_header
 * values, return targets, map values, proxy_ssl_name): like nginxLiteral, and every `$`
 * becomes `${outpost_dollar}`, which expands to a literal `$`.
 */
export function nginxString(value: string): string {
  refuseControl(value, 'a value');
  const escaped = value.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\$/g, `\${${DOLLAR_VARIABLE}}`);
  return `"${escaped}"`;
}

/** A quoted map entry key holding a case-sensitive PCRE regex (`~` prefix). */
export function nginxRegex(regex: string): string {
  return nginxLiteral(`~${regex}`);
}

/** Escapes a literal for PCRE (no extended mode): every metacharacter gets a backslash. */
export function escapeRegex(literal: string): string {
  refuseControl(literal, 'a pattern');
  return literal.replace(/[\\^$.|?*+()[\]{}]/g, (c) => `\\${c}`);
}

/** Decodes %XX escapes the way nginx's `$uri` does; invalid sequences stay literal. */
function percentDecode(s: string): string {
  return s.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

/**
 * A path glob as a PCRE fragment matching the whole (decoded, normalised) `$uri`: `*`
 * matches any characters including `/`; everything else is literal.
 */
export function globToRegex(glob: string): string {
  return glob
    .split('*')
    .map((part) => escapeRegex(percentDecode(part)))
    .join('.*');
}

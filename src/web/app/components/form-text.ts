// Text boxes to API values, the same way in every form: nothing is checked here, so a mistake
// reaches the API as typed and comes back named by its path.

/** "a, b c" → ["a", "b", "c"]; empty → []. */
export function splitList(s: string): string[] {
  return s
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

/** A number when the text is one; the text itself otherwise; empty → undefined. */
export function numberOrText(s: string): number | string | undefined {
  const t = s.trim();
  if (t === '') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : t;
}

// What a change of desired state answers (`POST /v1/apply`, and the site and edge writes that
// go through the same path): the server builds it (state/service.ts), the CLI and UI read it.
import { z } from 'zod';
import type { SpecDiff } from './diff.js';

const FieldChange = z.object({ path: z.string(), from: z.unknown(), to: z.unknown() });

const SpecDiffAnswer = z.object({
  changes: z.array(
    z.object({
      kind: z.enum(['edge', 'site', 'dns', 'acme']),
      key: z.string(),
      op: z.enum(['create', 'update', 'delete']),
      fields: z.array(FieldChange),
    }),
  ),
});

export const ChangeResult = z.object({
  changed: z.boolean(),
  revision: z.number().int().nonnegative(),
  diff: SpecDiffAnswer,
  /** The diff as readable text, as `outpost apply` prints it. */
  text: z.string(),
  /** Tokens of edges this change created, shown once. */
  edge_tokens: z.record(z.string()),
});
export type ChangeResult = Omit<z.infer<typeof ChangeResult>, 'diff'> & { diff: SpecDiff };

// The answer's diff and spec/diff.ts's SpecDiff are one shape: each must be assignable to the
// other, or this line stops compiling.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameDiff: Same<z.infer<typeof SpecDiffAnswer>, SpecDiff> = true;
void sameDiff;

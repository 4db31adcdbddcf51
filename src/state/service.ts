// Every change of desired state goes through here: build the next Spec, validate the whole
// document, diff it against the stored one, and write it in one transaction (or not at all).
import {
  diffSpecs,
  type ChangeResult,
  formatDiff,
  parseSpec,
  parseSpecYaml,
  type Spec,
  type SpecInput,
} from '../spec/index.js';
import { RevisionConflictError, type NewAuditEvent, type Store } from '../store/types.js';
import { hashToken, newToken } from '../http/tokens.js';

export type { ChangeResult } from '../spec/api.js';

// ---- w7-apply ----
/** A whole document to apply: a parsed object or YAML text (problems then carry lines). */
export interface ApplyInput {
  spec?: unknown;
  yaml?: string;
}

export interface ApplyOptions {
  dryRun: boolean;
  actor: string;
  address?: string;
}

/**
 * Where `apply` runs when not on this thread (the apply worker, state/apply-worker.ts). It
 * answers what `apply` would, or rejects with the same errors; an error with `mayHaveWritten`
 * true (the worker died or was stopped) may follow a commit, so the reactions run anyway.
 */
export interface RemoteApplies {
  apply(input: ApplyInput, options: ApplyOptions): Promise<ChangeResult>;
}
// ---- end w7-apply ----

export class DesiredState {
  constructor(
    private readonly store: Store,
    /** Called after every change that was written (bundles are rebuilt from it). */
    private readonly onChanged: () => void = () => {},
    /** Test hook only: runs inside each write transaction before its commit. */
    private readonly beforeCommit?: () => Promise<void>,
    /** Applies run there (parse, validate, diff, write), not on this thread (w7-apply). */
    private readonly remote?: RemoteApplies,
  ) {}

  /**
   * The state as the store parsed it for its revision, shared and frozen (no copy per read:
   * 10,000 sites cost ~0.1 s to clone). Read-only: `change` hands it to its edit, which returns
   * a new document.
   */
  async read(): Promise<{ spec: Spec; revision: number }> {
    return this.store.readSharedState();
  }

  /** Applies a whole document (parsed object or YAML text). */
  async apply(input: ApplyInput, options: ApplyOptions): Promise<ChangeResult> {
    // ---- w7-apply ----
    if (this.remote !== undefined) {
      let result: ChangeResult;
      try {
        result = await this.remote.apply(input, options);
      } catch (err) {
        if ((err as { mayHaveWritten?: unknown }).mayHaveWritten === true) this.onChanged();
        throw err;
      }
      if (result.changed) this.onChanged();
      return result;
    }
    // ---- end w7-apply ----
    // Parsed and validated once: it does not depend on the stored state, so a retry after a
    // concurrent change diffs it again without another parse.
    const next = input.yaml !== undefined ? parseSpecYaml(input.yaml) : parseSpec(input.spec);
    return this.write(() => next, {
      dryRun: options.dryRun,
      event: {
        actor: options.actor,
        action: 'spec.apply',
        subject: '',
        detail: {},
        ...(options.address !== undefined ? { address: options.address } : {}),
      },
    });
  }

  /**
   * Applies `edit` to the current state and stores the result. `edit` may throw an ApiError
   * (e.g. not found); its result is validated as a whole document. Retries on a concurrent
   * change.
   *
   * `edit` receives the stored state itself, deep-frozen: it returns a new document (spread
   * what it keeps) and never modifies what it is given (that throws). The entries it keeps
   * are the stored objects, so only the entries it made go through their schema again, and
   * the diff skips the ones it kept (issue 14: one edit at 10,000 sites no longer parses,
   * clones and walks 10,000 sites).
   */
  async change(
    edit: (current: Spec) => SpecInput,
    options: { dryRun?: boolean; event: NewAuditEvent },
  ): Promise<ChangeResult> {
    return this.write(
      (current) =>
        parseSpec(edit(current), { known: new Set<unknown>([...current.edges, ...current.sites]) }),
      options,
    );
  }

  /** The one write: `next` gives the validated next state from the current one. */
  private async write(
    next: (current: Spec) => Spec,
    options: { dryRun?: boolean; event: NewAuditEvent },
  ): Promise<ChangeResult> {
    for (let attempt = 0; ; attempt++) {
      const { spec: current, revision } = await this.store.readSharedState();
      const desired = next(current);
      const diff = diffSpecs(current, desired);
      const created = diff.changes
        .filter((c) => c.kind === 'edge' && c.op === 'create')
        .map((c) => c.key);
      const base = { diff, text: formatDiff(diff) };
      if (options.dryRun || diff.changes.length === 0) {
        return { ...base, changed: false, revision, edge_tokens: {} };
      }
      const tokens = Object.fromEntries(created.map((name) => [name, newToken('edge')]));
      const hashes = Object.fromEntries(Object.entries(tokens).map(([n, t]) => [n, hashToken(t)]));
      try {
        const event = {
          ...options.event,
          detail: {
            ...options.event.detail,
            changes: diff.changes.map((c) => `${c.op} ${c.kind} ${c.key}`),
          },
        };
        const result = await this.store.writeState(desired, event, {
          expectRevision: revision,
          edgeTokenHashes: hashes,
          // Parsed just above and diffed against the state at `revision`: the store need not
          // parse and diff it again (if the revision moved, the write fails with a conflict and
          // this loop diffs against the new state).
          checked: { diff },
          ...(this.beforeCommit !== undefined ? { beforeCommit: this.beforeCommit } : {}),
        });
        if (result.changed) this.onChanged();
        return { ...base, changed: result.changed, revision: result.revision, edge_tokens: tokens };
      } catch (err) {
        if (err instanceof RevisionConflictError && attempt < 3) continue;
        throw err;
      }
    }
  }
}

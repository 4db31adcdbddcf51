// Revoking or rotating an edge token ends that edge's open long-polls at once (issue 15, 1).
// The admin routes announce a change of an edge's token here; each open poll of that edge
// listens and hangs up with 401. With several control planes (docs/high-availability.md) a
// revocation made here is announced (`onRevoked`, wired to the cluster's NOTIFY) and each
// other control plane calls `revokedElsewhere`, which ends the polls it holds for that edge.
// Every edge answer also re-checks the token at send time (agent-routes.ts).
import { EventEmitter } from 'node:events';

export class EdgeTokenRevocations {
  private readonly emitter = new EventEmitter();

  constructor() {
    // One listener per open poll: as many as there are edges, each with a poll or two.
    this.emitter.setMaxListeners(0);
  }

  /** Told of each revocation made here (the cluster announces it to the other control planes). */
  onRevoked: ((edge: string) => void) | undefined;

  /** The edge's token was revoked or replaced here: its open polls end now, everywhere. */
  revoked(edge: string): void {
    this.emitter.emit(edge);
    this.onRevoked?.(edge);
  }

  /** Another control plane revoked or replaced the edge's token: the polls held here end. */
  revokedElsewhere(edge: string): void {
    this.emitter.emit(edge);
  }

  /** A promise settled (with 'revoked') when the edge's token changes, and its cleanup. */
  watch(edge: string): { changed: Promise<'revoked'>; stop: () => void } {
    let listener: () => void = () => undefined;
    const changed = new Promise<'revoked'>((resolve) => {
      listener = () => resolve('revoked');
      this.emitter.once(edge, listener);
    });
    return { changed, stop: () => this.emitter.off(edge, listener) };
  }
}

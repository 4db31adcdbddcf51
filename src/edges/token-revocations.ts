// Revoking or rotating an edge token ends that edge's open long-polls at once (issue 15, 1).
// The admin routes announce a change of an edge's token here; each open poll of that edge
// listens and hangs up with 401. Every edge answer also re-checks the token at send time
// (agent-routes.ts), so a change made by another control plane is caught there.
import { EventEmitter } from 'node:events';

export class EdgeTokenRevocations {
  private readonly emitter = new EventEmitter();

  constructor() {
    // One listener per open poll: as many as there are edges, each with a poll or two.
    this.emitter.setMaxListeners(0);
  }

  /** The edge's token was revoked or replaced: its open polls end now. */
  revoked(edge: string): void {
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

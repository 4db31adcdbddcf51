// Log requests (docs/logs.md "Logs on demand"): an admin asks for a site's recent lines; each
// edge gets a log request in its poll answer (as purge jobs ride it), reads and filters its
// own rotated log, and POSTs the matching lines back. The control plane holds the question
// for a few seconds, in memory only: it never stores or logs the lines, and a request nobody
// answered is forgotten at its deadline (a `--follow` that went away leaves nothing behind).
// Several control planes (docs/high-availability.md): a request asked here is also announced
// (`onAsked`); every other control plane queues it for the edge's polls it holds
// (`queueRemote`), and when the edge answers there, passes the answer on (`onForward`: through
// the database, a short-lived row) to this one (`answerFromElsewhere`).
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { EdgeLogAnswer, LogRequest } from '../spec/index.js';
import { ApiError } from '../http/errors.js';

/** Requests waiting for one edge at once: beyond it, new ones are refused (429). */
const MAX_QUEUED_PER_EDGE = 16;

interface Waiting {
  edge: string;
  deadline: number;
  resolve: (answer: EdgeLogAnswer) => void;
}

export class LogRequests {
  /** Requests not yet delivered to their edge's poll, per edge. */
  private readonly queued = new Map<string, { request: LogRequest; deadline: number }[]>();
  /** Requests delivered or queued and not answered, by id. */
  private readonly waiting = new Map<string, Waiting>();
  private readonly wake = new EventEmitter();
  /** Requests asked by another control plane and queued here, by id. */
  private readonly remote = new Map<string, { edge: string; deadline: number }>();
  /** Told of each request asked here (the cluster announces it to the other control planes). */
  onAsked: ((edge: string, request: LogRequest, timeoutMs: number) => void) | undefined;
  /** An edge answered here a request another control plane asked: pass it on. */
  onForward: ((edge: string, answer: EdgeLogAnswer) => void) | undefined;

  constructor(private readonly now: () => number = Date.now) {
    this.wake.setMaxListeners(0);
  }

  /**
   * Asks each edge (its request: `forEdge(edge)`) and waits up to `timeoutMs` for the answers.
   * An edge that did not answer in time is `undefined` in the result.
   */
  async ask(
    edges: readonly string[],
    forEdge: (edge: string, id: string) => LogRequest,
    timeoutMs: number,
  ): Promise<Map<string, EdgeLogAnswer | undefined>> {
    for (const edge of edges)
      if ((this.queued.get(edge)?.length ?? 0) >= MAX_QUEUED_PER_EDGE)
        throw new ApiError(
          'too_many_requests',
          `edge "${edge}" has ${MAX_QUEUED_PER_EDGE} log requests waiting already; try again shortly`,
        );
    const deadline = this.now() + timeoutMs;
    const answers = await Promise.all(
      edges.map(async (edge) => {
        const id = randomBytes(12).toString('base64url');
        const request = forEdge(edge, id);
        const answer = new Promise<EdgeLogAnswer | undefined>((resolve) => {
          const timer = setTimeout(() => {
            this.waiting.delete(id);
            this.drop(edge, id);
            resolve(undefined);
          }, timeoutMs);
          this.waiting.set(id, {
            edge,
            deadline,
            resolve: (a) => {
              clearTimeout(timer);
              resolve(a);
            },
          });
        });
        const list = this.queued.get(edge) ?? [];
        list.push({ request, deadline });
        this.queued.set(edge, list);
        this.wake.emit(edge);
        this.onAsked?.(edge, request, timeoutMs);
        return [edge, await answer] as const;
      }),
    );
    return new Map(answers);
  }

  /** The requests for `edge` not delivered yet (each is delivered once). */
  take(edge: string): LogRequest[] {
    const list = this.queued.get(edge);
    if (list === undefined) return [];
    this.queued.delete(edge);
    const now = this.now();
    return list.filter((q) => q.deadline > now).map((q) => q.request);
  }

  /**
   * An edge's answer; false when nobody waits for it (too late, or not this edge's). The
   * answer to another control plane's request is passed on (`onForward`).
   */
  answer(edge: string, answer: EdgeLogAnswer): boolean {
    if (this.answerFromElsewhere(edge, answer)) return true;
    const r = this.remote.get(answer.id);
    if (r === undefined || r.edge !== edge || r.deadline <= this.now()) return false;
    this.remote.delete(answer.id);
    this.onForward?.(edge, answer);
    return true;
  }

  /** An answer to a request asked here, given to another control plane; false: nobody waits. */
  answerFromElsewhere(edge: string, answer: EdgeLogAnswer): boolean {
    const w = this.waiting.get(answer.id);
    if (w === undefined || w.edge !== edge) return false;
    this.waiting.delete(answer.id);
    w.resolve(answer);
    return true;
  }

  /** True while a request asked here waits for its answer. */
  isWaiting(id: string): boolean {
    return this.waiting.has(id);
  }

  /**
   * Another control plane asked `edge` (announced): queued for the polls held here, and its
   * answer passed on. Bounded as local requests are; forgotten at its deadline.
   */
  queueRemote(edge: string, request: LogRequest, timeoutMs: number): void {
    const now = this.now();
    for (const [id, r] of this.remote) if (r.deadline <= now) this.remote.delete(id);
    if (this.waiting.has(request.id) || this.remote.has(request.id)) return;
    const list = (this.queued.get(edge) ?? []).filter((q) => q.deadline > now);
    if (list.length >= MAX_QUEUED_PER_EDGE) return;
    const deadline = now + timeoutMs;
    list.push({ request, deadline });
    this.queued.set(edge, list);
    this.remote.set(request.id, { edge, deadline });
    this.wake.emit(edge);
  }

  /** Resolves when a log request for `edge` is queued, or after `timeoutMs`. */
  wait(edge: string, timeoutMs: number, signal: Promise<unknown>): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake.off(edge, done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.wake.on(edge, done);
      void signal.then(done);
    });
  }

  private drop(edge: string, id: string): void {
    const list = this.queued.get(edge)?.filter((q) => q.request.id !== id);
    if (list === undefined) return;
    if (list.length === 0) this.queued.delete(edge);
    else this.queued.set(edge, list);
  }
}

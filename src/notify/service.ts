// The notifier, a worker: every few seconds it reads the alerts the status raises, tracks them
// (tracker.ts: fire after a while, resolve after a steady while), and queues each change for
// the channels whose filter (kinds, minimum severity) takes it. A channel gets at most one
// message per `minIntervalMs`: what piles up meanwhile goes out grouped in one message. A
// failed delivery is retried with backoff (same delivery id), then given up and noted on the
// channel. Logs name the channel and the error, never a secret.
import { ApiError, OutpostError } from '../http/errors.js';
import {
  atLeast,
  type Alert,
  type AlertEvent,
  type ChannelTested,
  type TrackedAlert,
} from '../spec/index.js';
import type { Worker } from '../spec/worker.js';
import type { NotificationQueries, StoredChannel } from '../store/types.js';
import { deliver, DeliveryError, senders } from './channels.js';
import { buildNotification, testNotification } from './message.js';
import { trackAlerts, type TrackerTimings } from './tracker.js';

export interface NotifyLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface NotifyTimings extends TrackerTimings {
  /** How often the alerts are read. */
  checkIntervalMs: number;
  /** At most one message per channel per this (changes meanwhile are grouped). */
  minIntervalMs: number;
  /** Delivery attempts of one message, the first retry's delay (doubling) and its cap. */
  attempts: number;
  retryDelayMs: number;
  maxRetryDelayMs: number;
  /** How long one attempt may take. */
  sendTimeoutMs: number;
}

export const NOTIFY_DEFAULTS: NotifyTimings = {
  checkIntervalMs: 5_000,
  fireAfterMs: 30_000,
  resolveAfterMs: 120_000,
  minIntervalMs: 60_000,
  attempts: 5,
  retryDelayMs: 2_000,
  maxRetryDelayMs: 60_000,
  sendTimeoutMs: 10_000,
};

export interface NotifyOptions {
  store: NotificationQueries;
  /** The alerts raised now (the status snapshot's). */
  alerts: () => Promise<Alert[]>;
  logger: NotifyLogger;
  timings?: Partial<NotifyTimings>;
  now?: () => Date;
}

interface ChannelQueue {
  events: AlertEvent[];
  lastSentAt: number;
  busy: boolean;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Whether a channel hears of a change: its kinds and minimum severity take it, and for a
 * "resolved", the channel existed when the alert fired (it heard the "firing").
 */
export function channelTakes(channel: StoredChannel, e: AlertEvent): boolean {
  if (e.status === 'resolved' && channel.created_at > e.fired_at) return false;
  return (
    (channel.kinds.length === 0 || channel.kinds.includes(e.kind)) &&
    atLeast(e.severity, channel.min_severity)
  );
}

export class NotifyService implements Worker {
  readonly name = 'notify';
  readonly timings: NotifyTimings;
  private readonly now: () => Date;
  private readonly registry: ReturnType<typeof senders>;
  private tracked: TrackedAlert[] = [];
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;
  private readonly queues = new Map<string, ChannelQueue>();
  private readonly sleeps = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private readonly sending = new Set<Promise<void>>();

  constructor(private readonly opts: NotifyOptions) {
    this.timings = { ...NOTIFY_DEFAULTS, ...opts.timings };
    this.now = opts.now ?? (() => new Date());
    this.registry = senders({ timeoutMs: this.timings.sendTimeoutMs });
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.tracked = await this.opts.store.listTrackedAlerts();
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const q of this.queues.values()) clearTimeout(q.timer);
    for (const s of this.sleeps) {
      clearTimeout(s.timer);
      s.resolve();
    }
    await this.ticking;
    await Promise.all([...this.sending]);
  }

  /** The alerts as tracked now (GET /v1/alerts). */
  trackedAlerts(): TrackedAlert[] {
    return this.tracked.map((t) => ({ ...t }));
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick()
        .then(() => undefined)
        .catch((err: unknown) =>
          this.opts.logger.error({ err: messageOf(err) }, 'reading the alerts failed'),
        )
        .finally(() => {
          this.ticking = undefined;
          this.schedule();
        });
    }, this.timings.checkIntervalMs);
  }

  /** One look at the alerts: track them, save, queue the changes (one look at a time). */
  tick(): Promise<AlertEvent[]> {
    const next = this.chain.then(() => this.look());
    this.chain = next.catch(() => undefined);
    return next;
  }

  private chain: Promise<unknown> = Promise.resolve();

  private async look(): Promise<AlertEvent[]> {
    const raised = await this.opts.alerts();
    const step = trackAlerts(this.tracked, raised, this.now(), this.timings);
    this.tracked = step.tracked;
    await this.opts.store.saveTrackedAlerts(step.tracked);
    if (step.events.length === 0) return [];
    for (const e of step.events)
      this.opts.logger.info(
        { alert: e.alert_id, status: e.status, severity: e.severity },
        `alert ${e.status}`,
      );
    const channels = await this.opts.store.listChannels();
    for (const channel of channels) {
      const events = step.events.filter((e) => channelTakes(channel, e));
      if (events.length === 0) continue;
      this.queueOf(channel.name).events.push(...events);
      this.flush(channel.name);
    }
    return step.events;
  }

  private queueOf(name: string): ChannelQueue {
    let q = this.queues.get(name);
    if (!q) {
      q = { events: [], lastSentAt: 0, busy: false, timer: undefined };
      this.queues.set(name, q);
    }
    return q;
  }

  /** Sends what the channel's queue holds now, or when its interval allows. */
  private flush(name: string): void {
    const q = this.queueOf(name);
    if (this.stopped || q.busy || q.timer !== undefined || q.events.length === 0) return;
    const wait = q.lastSentAt + this.timings.minIntervalMs - this.now().getTime();
    if (wait > 0) {
      q.timer = setTimeout(() => {
        q.timer = undefined;
        this.flush(name);
      }, wait);
      return;
    }
    const events = q.events.splice(0);
    q.busy = true;
    q.lastSentAt = this.now().getTime();
    const p = this.sendWithRetries(name, events).finally(() => {
      q.busy = false;
      this.sending.delete(p);
      this.flush(name);
    });
    this.sending.add(p);
  }

  private async sendWithRetries(name: string, events: AlertEvent[]): Promise<void> {
    const channel = await this.opts.store.getChannel(name);
    if (!channel) return; // removed meanwhile
    const n = buildNotification(name, events, this.now());
    let delay = this.timings.retryDelayMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await deliver(this.registry, channel, n, this.now());
        await this.opts.store.recordDelivery(name, this.now().toISOString(), null);
        this.opts.logger.info(
          { channel: name, delivery: n.id, events: events.length, attempt },
          'notification delivered',
        );
        return;
      } catch (err) {
        const error = messageOf(err);
        const retryable = !(err instanceof DeliveryError) || err.retryable;
        if (this.stopped || !retryable || attempt >= this.timings.attempts) {
          this.opts.logger.warn(
            { channel: name, delivery: n.id, attempt, err: error },
            'notification not delivered; given up',
          );
          await this.opts.store.recordDelivery(name, this.now().toISOString(), error);
          return;
        }
        this.opts.logger.warn(
          { channel: name, delivery: n.id, attempt, err: error, retry_in_ms: delay },
          'notification not delivered; retrying',
        );
        await this.sleep(delay);
        delay = Math.min(delay * 2, this.timings.maxRetryDelayMs);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const s = {
        timer: setTimeout(() => {
          this.sleeps.delete(s);
          resolve();
        }, ms),
        resolve,
      };
      this.sleeps.add(s);
    });
  }

  /** `outpost alerts test CHANNEL`: one message now, one attempt, the error to the caller. */
  async test(name: string): Promise<ChannelTested> {
    const channel = await this.opts.store.getChannel(name);
    if (!channel) throw new ApiError('not_found', `no notification channel "${name}"`, 'name');
    const n = testNotification(name, this.now());
    try {
      await deliver(this.registry, channel, n, this.now());
    } catch (err) {
      const error = messageOf(err);
      await this.opts.store.recordDelivery(name, this.now().toISOString(), error);
      // A 5xx code, but the reason is the operator's to see (it never holds the secret).
      throw new OutpostError(
        'notification_failed',
        `the test message did not reach channel ${name}: ${error}`,
        { expose: true },
      );
    }
    await this.opts.store.recordDelivery(name, this.now().toISOString(), null);
    return { channel: name, delivered: true, id: n.id };
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// /v1/alerts (the tracked alerts) and /v1/alerts/channels (notification channels): listing
// needs `read`, changing a channel or sending a test needs `admin` (a channel holds a secret
// and makes the control plane send requests).
import type { FastifyPluginAsync } from 'fastify';
import { actorOf } from '../http/actor.js';
import { ApiError } from '../http/errors.js';
import { docs } from '../http/openapi.js';
import { parseBody } from '../http/parse-body.js';
import {
  AlertList,
  ChannelAnswer,
  ChannelCreate,
  ChannelDeleted,
  ChannelList,
  ChannelTested,
  type ChannelInfo,
} from '../spec/index.js';
import type { NotificationQueries, StoredChannel } from '../store/types.js';
import type { NotifyService } from './service.js';

export function channelInfo(c: StoredChannel): ChannelInfo {
  return {
    name: c.name,
    settings: c.settings,
    has_secret: c.has_secret,
    kinds: c.kinds,
    min_severity: c.min_severity,
    created_at: c.created_at,
    last_sent_at: c.last_sent_at,
    last_error: c.last_error,
  };
}

export const notifyRoutes =
  (store: NotificationQueries, notifier: NotifyService): FastifyPluginAsync =>
  async (app) => {
    app.get(
      '/v1/alerts',
      {
        schema: docs({
          tag: 'alerts',
          summary: 'The alerts the notifier tracks (firing, pending, resolving)',
          answers: { 200: AlertList },
        }),
      },
      async () => {
        const answer: AlertList = { alerts: notifier.trackedAlerts() };
        return answer;
      },
    );

    app.get(
      '/v1/alerts/channels',
      {
        schema: docs({
          tag: 'alerts',
          summary: 'List the notification channels (never their secrets)',
          answers: { 200: ChannelList },
        }),
      },
      async () => {
        const answer: ChannelList = { channels: (await store.listChannels()).map(channelInfo) };
        return answer;
      },
    );

    app.post(
      '/v1/alerts/channels',
      {
        schema: docs({
          tag: 'alerts',
          summary: 'Add a notification channel',
          body: ChannelCreate,
          answers: { 201: ChannelAnswer },
          errors: ['invalid_request', 'conflict'],
        }),
      },
      async (req, reply) => {
        const body = parseBody(ChannelCreate, req.body);
        const created = await store.createChannel(
          {
            name: body.name,
            settings: body.settings,
            secret: body.secret ?? null,
            kinds: body.kinds,
            min_severity: body.min_severity,
          },
          {
            actor: actorOf(req),
            action: 'alerts.channel.add',
            subject: body.name,
            detail: {
              type: body.settings.type,
              kinds: body.kinds,
              min_severity: body.min_severity,
            },
            address: req.ip,
          },
        );
        if (!created)
          throw new ApiError('conflict', `a notification channel "${body.name}" exists`, 'name');
        const stored = await store.getChannel(body.name);
        if (!stored) throw new ApiError('not_found', `no notification channel "${body.name}"`);
        const answer: ChannelAnswer = { channel: channelInfo(stored) };
        return reply.status(201).send(answer);
      },
    );

    app.delete<{ Params: { name: string } }>(
      '/v1/alerts/channels/:name',
      {
        schema: docs({
          tag: 'alerts',
          summary: 'Remove a notification channel',
          answers: { 200: ChannelDeleted },
          errors: ['not_found'],
        }),
      },
      async (req) => {
        const ok = await store.deleteChannel(req.params.name, {
          actor: actorOf(req),
          action: 'alerts.channel.rm',
          subject: req.params.name,
          detail: {},
          address: req.ip,
        });
        if (!ok)
          throw new ApiError('not_found', `no notification channel "${req.params.name}"`, 'name');
        const answer: ChannelDeleted = { deleted: req.params.name };
        return answer;
      },
    );

    app.post<{ Params: { name: string } }>(
      '/v1/alerts/channels/:name/test',
      {
        schema: docs({
          tag: 'alerts',
          summary: 'Send a test message through a channel now',
          answers: { 200: ChannelTested },
          errors: ['not_found', 'notification_failed'],
        }),
      },
      async (req) => notifier.test(req.params.name),
    );
  };

// Admin API for edges: list, show, add (token shown once), replace, remove, rotate and revoke
// the edge's token.
import { actorOf } from '../http/actor.js';
import type { FastifyPluginAsync } from 'fastify';
import { Edge, type Edge as EdgeT } from '../spec/index.js';
import type { Store } from '../store/types.js';
import { ApiError } from '../http/errors.js';
import { hashToken, newToken } from '../http/tokens.js';
import { parseBody } from '../http/parse-body.js';
import type { DesiredState } from '../state/service.js';
import { docs } from '../http/openapi.js';
import type { EdgeTokenRevocations } from './token-revocations.js';

/**
 * The command a new edge runs to join. The token is not in it: the script asks for it and
 * writes it to a 0600 file. `--pin` is the fingerprint of the key that signs bundles.
 */
export function joinCommand(serverUrl: string, edgeName: string, fingerprint: string): string {
  return `curl -fsSL ${serverUrl}/install.sh | sudo bash -s -- --server ${serverUrl} --name ${edgeName} --pin ${fingerprint}`;
}

export const edgesRoutes =
  (
    state: DesiredState,
    store: Store,
    serverUrl: string,
    fingerprint: string,
    revocations: EdgeTokenRevocations,
  ): FastifyPluginAsync =>
  async (app) => {
    const withToken = async (edge: EdgeT) => ({
      ...edge,
      has_token: await store.edgeHasToken(edge.name),
    });
    const find = async (name: string) => {
      const { spec } = await state.read();
      const edge = spec.edges.find((e) => e.name === name);
      if (!edge) throw new ApiError('not_found', `no edge "${name}"`, 'name');
      return edge;
    };

    app.get('/v1/edges', { schema: docs('edges', 'List edges') }, async () => {
      const { spec, revision } = await state.read();
      return { revision, edges: await Promise.all(spec.edges.map(withToken)) };
    });

    app.get<{ Params: { name: string } }>(
      '/v1/edges/:name',
      { schema: docs('edges', 'Show an edge') },
      async (req) => ({
        edge: await withToken(await find(req.params.name)),
      }),
    );

    app.post(
      '/v1/edges',
      { schema: docs('edges', 'Add an edge; its token is in the answer, once', Edge) },
      async (req, reply) => {
        const edge = parseBody(Edge, req.body);
        const result = await state.change(
          (spec) => {
            if (spec.edges.some((e) => e.name === edge.name))
              throw new ApiError('conflict', `edge "${edge.name}" already exists`, 'name');
            return { ...spec, edges: [...spec.edges, edge] };
          },
          {
            event: {
              actor: actorOf(req),
              address: req.ip,
              action: 'edge.create',
              subject: edge.name,
              detail: {},
            },
          },
        );
        const token = result.edge_tokens[edge.name];
        return reply.status(201).send({
          edge,
          revision: result.revision,
          token,
          join_command: joinCommand(serverUrl, edge.name, fingerprint),
        });
      },
    );

    app.put<{ Params: { name: string } }>(
      '/v1/edges/:name',
      { schema: docs('edges', 'Replace an edge', Edge) },
      async (req) => {
        const name = req.params.name;
        const edge = parseBody(Edge, { name, ...(req.body as object) });
        if (edge.name !== name)
          throw new ApiError('invalid_request', 'name in the body differs from the URL', 'name');
        const result = await state.change(
          (spec) => {
            const i = spec.edges.findIndex((e) => e.name === name);
            if (i < 0) throw new ApiError('not_found', `no edge "${name}"`, 'name');
            const edges = [...spec.edges];
            edges[i] = edge;
            return { ...spec, edges };
          },
          {
            event: {
              actor: actorOf(req),
              address: req.ip,
              action: 'edge.update',
              subject: name,
              detail: {},
            },
          },
        );
        return { edge, revision: result.revision, diff: result.diff };
      },
    );

    app.delete<{ Params: { name: string } }>(
      '/v1/edges/:name',
      { schema: docs('edges', 'Remove an edge') },
      async (req) => {
        const name = req.params.name;
        const result = await state.change(
          (spec) => {
            if (!spec.edges.some((e) => e.name === name))
              throw new ApiError('not_found', `no edge "${name}"`, 'name');
            return { ...spec, edges: spec.edges.filter((e) => e.name !== name) };
          },
          {
            event: {
              actor: actorOf(req),
              address: req.ip,
              action: 'edge.delete',
              subject: name,
              detail: {},
            },
          },
        );
        revocations.revoked(name);
        return { deleted: name, revision: result.revision };
      },
    );

    app.post<{ Params: { name: string } }>(
      '/v1/edges/:name/token',
      {
        schema: docs(
          'edges',
          'Rotate the edge token: the old one stops working; the new one is in the answer, once',
        ),
      },
      async (req) => {
        const name = req.params.name;
        const token = newToken('edge');
        const ok = await store.setEdgeTokenHash(name, hashToken(token), {
          actor: actorOf(req),
          address: req.ip,
          action: 'edge.token.rotate',
          subject: name,
          detail: {},
        });
        if (!ok) throw new ApiError('not_found', `no edge "${name}"`, 'name');
        revocations.revoked(name);
        return { name, token, join_command: joinCommand(serverUrl, name, fingerprint) };
      },
    );

    app.delete<{ Params: { name: string } }>(
      '/v1/edges/:name/token',
      { schema: docs('edges', 'Revoke the edge token: the edge can no longer pull until rotated') },
      async (req) => {
        const name = req.params.name;
        const ok = await store.setEdgeTokenHash(name, null, {
          actor: actorOf(req),
          address: req.ip,
          action: 'edge.token.revoke',
          subject: name,
          detail: {},
        });
        if (!ok) throw new ApiError('not_found', `no edge "${name}"`, 'name');
        revocations.revoked(name);
        return { name, revoked: true };
      },
    );
  };

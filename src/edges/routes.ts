// Admin API for edges: list, show, add (token shown once), replace, remove, rotate and revoke
// the edge's token.
import { actorOf } from '../http/actor.js';
import type { FastifyPluginAsync } from 'fastify';
import {
  Deleted,
  Edge,
  EdgeAnswer,
  EdgeChanged,
  EdgeList,
  NewEdgeAnswer,
  TokenAnswer,
  TokenRevoked,
  type Edge as EdgeT,
} from '../spec/index.js';
import type { Store } from '../store/types.js';
import { ApiError } from '../http/errors.js';
import { hashToken, newToken } from '../http/tokens.js';
import { parseBody } from '../http/parse-body.js';
import type { DesiredState } from '../state/service.js';
import { docs } from '../http/openapi.js';
import type { EdgeTokenRevocations } from './token-revocations.js';

/**
 * The command a new edge runs to join. The token is not in it: the script asks for it and
 * writes it to a 0600 file. `--pin` is the fingerprint of the key that signs bundles. With
 * several control-plane URLs (`serve --join-servers`), the script comes from the first and the
 * agent gets them all, in order of preference.
 */
export function joinCommand(
  serverUrls: readonly string[],
  edgeName: string,
  fingerprint: string,
): string {
  const first = serverUrls[0] ?? '';
  return `curl -fsSL ${first}/install.sh | sudo bash -s -- --server ${serverUrls.join(',')} --name ${edgeName} --pin ${fingerprint}`;
}

export const edgesRoutes =
  (
    state: DesiredState,
    store: Store,
    serverUrls: readonly string[],
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

    app.get(
      '/v1/edges',
      { schema: docs({ tag: 'edges', summary: 'List edges', answers: { 200: EdgeList } }) },
      async () => {
        const { spec, revision } = await state.read();
        const tokens = await store.edgesWithToken();
        return {
          revision,
          edges: spec.edges.map((e) => ({ ...e, has_token: tokens.has(e.name) })),
        };
      },
    );

    app.get<{ Params: { name: string } }>(
      '/v1/edges/:name',
      {
        schema: docs({
          tag: 'edges',
          summary: 'Show an edge',
          answers: { 200: EdgeAnswer },
          errors: ['not_found'],
        }),
      },
      async (req) => ({
        edge: await withToken(await find(req.params.name)),
      }),
    );

    app.post(
      '/v1/edges',
      {
        schema: docs({
          tag: 'edges',
          summary: 'Add an edge; its token is in the answer, once',
          body: Edge,
          answers: { 201: NewEdgeAnswer },
          errors: ['invalid_spec', 'conflict', 'revision_conflict'],
        }),
      },
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
          join_command: joinCommand(serverUrls, edge.name, fingerprint),
        });
      },
    );

    app.put<{ Params: { name: string } }>(
      '/v1/edges/:name',
      {
        schema: docs({
          tag: 'edges',
          summary: 'Replace an edge (the name comes from the URL)',
          body: Edge,
          answers: { 200: EdgeChanged },
          errors: ['invalid_spec', 'invalid_request', 'not_found', 'revision_conflict'],
        }),
      },
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
      {
        schema: docs({
          tag: 'edges',
          summary: 'Remove an edge',
          answers: { 200: Deleted },
          errors: ['invalid_spec', 'not_found', 'revision_conflict'],
        }),
      },
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
        schema: docs({
          tag: 'edges',
          summary:
            'Rotate the edge token: the old one stops working; the new one is in the answer, once',
          answers: { 200: TokenAnswer },
          errors: ['not_found'],
        }),
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
        return { name, token, join_command: joinCommand(serverUrls, name, fingerprint) };
      },
    );

    app.delete<{ Params: { name: string } }>(
      '/v1/edges/:name/token',
      {
        schema: docs({
          tag: 'edges',
          summary: 'Revoke the edge token: the edge can no longer pull until rotated',
          answers: { 200: TokenRevoked },
          errors: ['not_found'],
        }),
      },
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

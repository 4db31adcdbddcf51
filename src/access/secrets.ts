// `secrets rotate-key`: a new key file, every secret of the store re-sealed with it in one
// transaction. The new key is written to KEY.new first and renamed over KEY after the commit;
// a start that finds KEY.new (a rotation cut short) knows both keys and finishes it.
import { existsSync, renameSync } from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';
import { actorOf } from '../http/actor.js';
import { OutpostError } from '../http/errors.js';
import { docs } from '../http/openapi.js';
import { SecretsRotated } from '../spec/index.js';
import { newSecretKey, SecretBox, writeKeyFile } from '../store/index.js';
import type { SecretQueries } from '../store/types.js';

export async function rotateSecretKey(
  store: SecretQueries,
  keyFile: string,
  actor: string,
  address: string | null,
): Promise<{ secrets: number; key: string }> {
  const key = newSecretKey();
  writeKeyFile(`${keyFile}.new`, key);
  const next = new SecretBox(key);
  const secrets = await store.rotateSecrets(next, {
    actor,
    action: 'secrets.rotate-key',
    subject: '',
    detail: {},
    address,
  });
  renameSync(`${keyFile}.new`, keyFile);
  return { secrets, key: next.currentId };
}

/** At start, when KEY.new was left: re-seal everything with it (the box knows both), rename. */
export async function finishKeyRotation(
  store: SecretQueries,
  box: SecretBox,
  keyFile: string,
): Promise<void> {
  await store.rotateSecrets(box, {
    actor: 'system',
    action: 'secrets.rotate-key.finish',
    subject: '',
    detail: {},
  });
  if (existsSync(`${keyFile}.new`)) renameSync(`${keyFile}.new`, keyFile);
}

export const secretsRoutes =
  (
    store: SecretQueries,
    keyFile: string | undefined,
    /** After a rotation (the build worker reads the key file again). */
    onRotated?: () => void,
  ): FastifyPluginAsync =>
  async (app) => {
    app.post(
      '/v1/secrets/rotate-key',
      {
        schema: docs({
          tag: 'access',
          summary: "Replace the key that seals the store's secrets",
          answers: { 200: SecretsRotated },
          errors: ['unavailable'],
        }),
      },
      async (req) => {
        if (keyFile === undefined)
          throw new OutpostError(
            'unavailable',
            'this control plane runs without a secret key file',
            {
              expose: true,
            },
          );
        const rotated = await rotateSecretKey(store, keyFile, actorOf(req), req.ip);
        onRotated?.();
        return rotated;
      },
    );
  };

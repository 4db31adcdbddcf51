// The spec's defaults, read from its zod schemas (their `.default()`s) so that the forms start
// where `outpost apply` would fill in, and say so, without a second copy of any value. This is
// the one runtime import of the spec in the UI: each schema below parses an empty value, so no
// address is ever checked in the browser (the API validates; see vite.config.ts on node:net).
import {
  CachePolicy,
  EdgeListen,
  HealthCheck,
  Hsts,
  HttpsPolicy,
  ModifierAction,
  Origin,
  Site,
} from '../../spec/schema.js';
import type { z } from 'zod';

/** The default of one field of a zod object schema: what it parses `undefined` to. */
const defaultOf = <T>(field: { parse: (v: undefined) => T }): T => field.parse(undefined);

// The discriminated union's options, checked to be the ones meant (their order is the spec's).
const redirect = ModifierAction.options[0] satisfies { shape: { type: z.ZodLiteral<'redirect'> } };
const deny = ModifierAction.options[1] satisfies { shape: { type: z.ZodLiteral<'deny'> } };

export const SPEC_DEFAULTS = {
  site: {
    aliases: defaultOf(Site.shape.aliases),
    edges: defaultOf(Site.shape.edges),
    modifiers: defaultOf(Site.shape.modifiers),
    dns_ttl: defaultOf(Site.shape.dns_ttl),
    cache: CachePolicy.parse({}),
    https: HttpsPolicy.parse({}),
  },
  origin: {
    protocol: defaultOf(Origin.shape.protocol),
    verify_tls: defaultOf(Origin.shape.verify_tls),
    weight: defaultOf(Origin.shape.weight),
    backup: defaultOf(Origin.shape.backup),
  },
  health_check: {
    frequency: defaultOf(HealthCheck.shape.frequency),
    timeout: defaultOf(HealthCheck.shape.timeout),
  },
  hsts: Hsts.parse({}),
  modifier: {
    redirect_status: defaultOf(redirect.shape.status),
    deny_status: defaultOf(deny.shape.status),
  },
  edge_listen: EdgeListen.parse({}),
} as const;

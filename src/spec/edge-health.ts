// The edge's own health endpoint, which DNS health checks probe (PowerDNS ifurlup, GCore
// failover): every edge answers it locally on its default server, never proxied to an origin,
// with the release it serves. Shared by the renderers (src/render) and the DNS plan (src/dns).

/** Where every edge answers its own health. */
export const EDGE_HEALTH_PATH = '/.well-known/outpost/health';
/** The text the health answer starts with (followed by ` release N`). */
export const EDGE_HEALTH_MATCH = 'outpost edge ok';

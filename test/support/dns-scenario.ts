// The GeoDNS scenario both providers are tested with: four edges on four continents (loopback
// addresses 127.0.12.2-5, one port), an origin (127.0.12.9), and clients from nine countries.
// Each edge is a small HTTP server that answers the edge health endpoint itself (as the
// rendered nginx/Caddy default server does) and proxies the end-to-end path to the origin, so
// a test can take an edge down, or the origin, and see who DNS answers.
import { createServer, request, type Server } from 'node:http';
import { EDGE_HEALTH_MATCH, EDGE_HEALTH_PATH, parseSpec, type Spec } from '../../src/spec/index.js';
import { freePort } from './processes.js';

export const EDGES = {
  fra: { v4: '127.0.12.2', latlong: [50.1, 8.7] as [number, number], continents: ['EU'] },
  tok: {
    v4: '127.0.12.3',
    latlong: [35.7, 139.7] as [number, number],
    countries: ['JP'],
    continents: ['AS'],
  },
  iad: { v4: '127.0.12.4', latlong: [38.9, -77.0] as [number, number], continents: ['NA'] },
  gru: { v4: '127.0.12.5', latlong: [-23.5, -46.6] as [number, number], continents: ['SA'] },
} as const;
export type EdgeName = keyof typeof EDGES;
export const ORIGIN = '127.0.12.9';
export const E2E_PATH = '/e2e-health';

/**
 * Who answers each client country, by the steps both providers follow (health, then the
 * edges listing the client's country or continent, then the nearest by coordinates; the
 * distances between country centres and edges are in the comments, in km).
 */
export const EXPECTED = {
  allUp: {
    DE: 'fra', // EU
    GB: 'fra', // EU
    JP: 'tok', // country JP
    KR: 'tok', // AS
    IN: 'tok', // AS
    US: 'iad', // NA
    BR: 'gru', // SA
    AU: 'tok', // no edge lists OC: nearest, tok 7007 (gru 14400)
    ZA: 'gru', // no edge lists AF: nearest, gru 6964 (fra 8924)
  },
  fraDown: {
    DE: 'iad', // iad 6507, tok 9240
    GB: 'iad', // iad 5695
    JP: 'tok',
    KR: 'tok',
    IN: 'tok',
    US: 'iad',
    BR: 'gru',
    AU: 'tok',
    ZA: 'gru',
  },
  tokDown: {
    DE: 'fra',
    GB: 'fra',
    JP: 'fra', // fra 9227, iad 10945
    KR: 'fra', // fra 8628
    IN: 'fra', // fra 6780
    US: 'iad',
    BR: 'gru',
    AU: 'gru', // gru 14400, fra 14688
    ZA: 'gru',
  },
} satisfies Record<string, Record<string, EdgeName>>;
export type Country = keyof typeof EXPECTED.allUp;
export const COUNTRIES = Object.keys(EXPECTED.allUp) as Country[];

/** A client subnet per country (ECS), checked against the GeoIP database inside PowerDNS. */
export const SUBNETS: Record<Country, string> = {
  DE: '193.99.144.0/24',
  GB: '81.2.69.0/24',
  JP: '202.12.27.0/24',
  KR: '168.126.63.0/24',
  IN: '164.100.1.0/24',
  US: '8.8.8.0/24',
  BR: '200.160.0.0/24',
  AU: '139.130.4.0/24',
  ZA: '196.25.1.0/24',
};

export type EdgeHealth = 'up' | 'failing';

export interface Scenario {
  port: number;
  health: Map<EdgeName, EdgeHealth>;
  originUp: { value: boolean };
  /** Requests each edge's health endpoint got. */
  healthHits: Map<EdgeName, number>;
  stop: () => Promise<void>;
}

const close = (s: Server) =>
  new Promise<void>((r) => {
    s.closeAllConnections();
    s.close(() => r());
  });

function listen(srv: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, host, () => resolve());
  });
}

/** Starts the four edges and the origin on one free port. */
export async function startScenario(): Promise<Scenario> {
  const port = await freePort(EDGES.fra.v4);
  const health = new Map<EdgeName, EdgeHealth>();
  const healthHits = new Map<EdgeName, number>();
  const originUp = { value: true };
  const servers: Server[] = [];
  for (const [name, e] of Object.entries(EDGES) as [EdgeName, (typeof EDGES)[EdgeName]][]) {
    health.set(name, 'up');
    healthHits.set(name, 0);
    const srv = createServer((req, res) => {
      if (req.url === EDGE_HEALTH_PATH) {
        // the edge's own health: local, whatever the origin does
        healthHits.set(name, (healthHits.get(name) ?? 0) + 1);
        const up = health.get(name) === 'up';
        res.writeHead(up ? 200 : 503, { 'content-type': 'text/plain' });
        res.end(up ? `${EDGE_HEALTH_MATCH} release 1` : 'failing');
        return;
      }
      if (health.get(name) !== 'up') {
        res.writeHead(503).end();
        return;
      }
      // everything else goes to the origin, as an edge proxies it
      const up = request(
        { host: ORIGIN, port, path: req.url, headers: req.headers, timeout: 2000 },
        (o) => {
          res.writeHead(o.statusCode ?? 502, o.headers);
          o.pipe(res);
        },
      );
      up.on('timeout', () => up.destroy(new Error('timeout')));
      up.on('error', () => res.writeHead(502).end('origin unreachable'));
      up.end();
    });
    await listen(srv, port, e.v4);
    servers.push(srv);
  }
  const origin = createServer((req, res) => {
    if (!originUp.value) {
      res.writeHead(503).end('origin down');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`origin ok ${req.url ?? ''}`);
  });
  await listen(origin, port, ORIGIN);
  servers.push(origin);
  return {
    port,
    health,
    originUp,
    healthHits,
    stop: async () => {
      for (const s of servers) await close(s);
    },
  };
}

/** The scenario's desired state: one site on every edge, the origin as its backup. */
export function scenarioSpec(port: number, dns: unknown, opts: { endToEnd?: boolean } = {}): Spec {
  return parseSpec({
    edges: (Object.entries(EDGES) as [EdgeName, (typeof EDGES)[EdgeName]][]).map(([name, e]) => ({
      name,
      host: { v4: e.v4 },
      listen: { http: port },
      meta: {
        latlong: e.latlong,
        continents: e.continents,
        ...('countries' in e ? { countries: e.countries } : {}),
      },
    })),
    sites: [
      {
        domain: 'www.example.com',
        origins: [{ host: { v4: ORIGIN }, protocol: 'http', port }],
        health_check: {
          frequency: 10,
          timeout: 1,
          ...(opts.endToEnd
            ? { uri: `http://www.example.com:${port}${E2E_PATH}`, match: 'origin ok' }
            : {}),
        },
        dns_ttl: 30,
      },
    ],
    dns,
  });
}

/** Edge name of an address (or 'origin'), for readable failures. */
export function who(ip: string): string {
  if (ip === ORIGIN) return 'origin';
  return Object.entries(EDGES).find(([, e]) => e.v4 === ip)?.[0] ?? ip;
}

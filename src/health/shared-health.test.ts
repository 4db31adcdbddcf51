// The merged health of several control planes: the majority rule, and two (then three)
// SharedHealth views over one real store whose probers reach different things on loopback.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSpec, type Spec } from '../spec/index.js';
import { openStore, type Store } from '../store/index.js';
import type { TargetHealth } from './health-book.js';
import { Prober } from './prober.js';
import { mergeHealth, SharedHealth, type Observation } from './shared-health.js';

const own = (state: TargetHealth['state'], reason: string | null = null): TargetHealth => ({
  state,
  reason,
  since: 'own-since',
  last: null,
  history: [],
});
const vote = (state: 'up' | 'down', reason: string | null = null): Observation => ({
  state,
  reason,
  since: `${state}-since`,
});

describe('mergeHealth: down when more than half of the fresh votes say down', () => {
  it.each([
    ['own down alone', own('down', 'timeout'), [], 'down'],
    ['own down, one other up (a tie)', own('down', 'timeout'), [vote('up')], 'up'],
    ['own up, one other down', own('up'), [vote('down', 'refused')], 'up'],
    ['both down', own('down', 'timeout'), [vote('down', 'refused')], 'down'],
    ['own up, two others down', own('up'), [vote('down', 'refused'), vote('down')], 'down'],
    ['own down, two others up', own('down'), [vote('up'), vote('up')], 'up'],
    ['own unknown, one other down', own('unknown'), [vote('down', 'refused')], 'down'],
    ['nobody knows', own('unknown'), [], 'unknown'],
  ] as const)('%s → %s', (_name, mine, others, expected) => {
    expect(mergeHealth(mine, others).state).toBe(expected);
  });

  it("keeps its own detail when it agrees, and takes the others' reason when outvoted", () => {
    expect(mergeHealth(own('down', 'timeout'), [vote('down', 'refused')])).toEqual(
      own('down', 'timeout'),
    );
    expect(mergeHealth(own('up'), [vote('down', 'refused'), vote('down', 'x')])).toMatchObject({
      state: 'down',
      reason: 'refused',
      since: 'down-since',
    });
    expect(mergeHealth(own('down', 'timeout'), [vote('up')])).toMatchObject({
      state: 'up',
      reason: null,
    });
  });
});

describe('SharedHealth: control planes on one store', () => {
  const servers: Server[] = [];
  const stores: Store[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
    for (const s of stores.splice(0)) await s.close();
  });

  /** An edge's default server as the probe expects it: 421 with X-CDN-Node. */
  const edgeServer = async (): Promise<number> => {
    const server = createServer((_req, res) => {
      res.writeHead(421, { 'x-cdn-node': 'e1' }).end();
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return (server.address() as AddressInfo).port;
  };
  /** A port nothing listens on (a server opened and closed). */
  const closedPort = async (): Promise<number> => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await new Promise((r) => server.close(r));
    return port;
  };
  const specWith = (e1Port: number, e2Port: number): Spec =>
    parseSpec({
      edges: [
        { name: 'e1', host: { v4: '127.0.0.1' }, listen: { http: e1Port } },
        { name: 'e2', host: { v4: '127.0.0.1' }, listen: { http: e2Port } },
      ],
      sites: [],
    });

  it('an edge only one control plane reaches is up on both; down once that one is gone', async () => {
    const store = await openStore({ url: 'sqlite::memory:' });
    stores.push(store);
    let clock = Date.parse('2026-06-01T00:00:00.000Z');
    const now = () => new Date(clock);
    const [up, closed] = [await edgeServer(), await closedPort()];
    // The same edges, but A reaches e1 where B does not (as across a network partition).
    const probers = new Map<SharedHealth, Prober>();
    const plane = (instance: string | undefined, spec: Spec) => {
      const prober = new Prober({
        readState: () => Promise.resolve({ spec }),
        intervalMs: 1000,
        timeoutMs: 1000,
      });
      const view = new SharedHealth({ prober, store, instance, now });
      probers.set(view, prober);
      return view;
    };
    const a = plane('a', specWith(up, closed));
    const b = plane('b', specWith(closed, closed));
    const round = async (...views: SharedHealth[]) => {
      for (const v of views) {
        await probers.get(v)?.runOnce();
        await v.settled();
      }
    };
    await round(a, b, a);
    for (const [name, v] of [
      ['A', a],
      ['B', b],
    ] as const) {
      expect(v.get('edge:e1').state, `${name}: e1 (A up, B down: a tie)`).toBe('up');
      expect(v.get('edge:e2').state, `${name}: e2 (down for both)`).toBe('down');
      expect(v.freshObservers()).toBe(1);
    }
    // A stops writing (killed): after its heartbeat runs out (2 × (1 s + its round) + 1 s)
    // B decides alone.
    clock += 2_000;
    await round(b);
    expect(b.get('edge:e1').state).toBe('up');
    clock += 5_000;
    expect(b.get('edge:e1').state).toBe('down');
    expect(b.get('edge:e1').reason).toMatch(/ECONNREFUSED/);
    expect(b.freshObservers()).toBe(0);
    // A third control plane that also fails to reach e1 makes a majority: down for A too.
    const c = plane('c', specWith(closed, closed));
    await round(a, b, c, a);
    expect(a.get('edge:e1')).toMatchObject({ state: 'down' });
    expect(a.freshObservers()).toBe(2);
    // A control plane that stops cleanly takes its votes with it.
    await c.stop();
    await round(a);
    expect(a.get('edge:e1').state).toBe('up');
  });

  it('alone (no instance) answers from its own probes and writes nothing', async () => {
    const store = await openStore({ url: 'sqlite::memory:' });
    stores.push(store);
    const spec = specWith(await closedPort(), await closedPort());
    const prober = new Prober({
      readState: () => Promise.resolve({ spec }),
      intervalMs: 1000,
      timeoutMs: 1000,
    });
    const alone = new SharedHealth({ prober, store, instance: undefined });
    await prober.runOnce();
    await alone.settled();
    expect(alone.get('edge:e1').state).toBe('down');
    expect(await store.freshProbeObservations('2000-01-01T00:00:00.000Z', 'x')).toEqual([]);
  });
});

// Failing steps of the probes (the database down): logged once, not once per round; a round
// whose state cannot be read probes the last state read and never rejects into the void.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSpec } from '../spec/index.js';
import { openStore } from '../store/index.js';
import { RepeatedFailures } from './failures.js';
import { Prober } from './prober.js';

describe('RepeatedFailures', () => {
  it('says a step when it starts failing, again a minute later, and once when it works again', () => {
    let clock = 0;
    const said: string[] = [];
    const f = new RepeatedFailures({
      onError: (err, what) => said.push(`${what} failed: ${(err as Error).message}`),
      onRecovered: (what, n) => said.push(`${what} works again after ${n}`),
      now: () => clock,
    });
    f.worked('write'); // never failed: nothing to say
    for (let i = 0; i < 10; i++) {
      f.failed('write', new Error(`down ${i}`));
      clock += 1000;
    }
    f.failed('read', new Error('down'));
    expect(said).toEqual(['write failed: down 0', 'read failed: down']);
    clock = 60_000;
    f.failed('write', new Error('still down'));
    expect(said.at(-1)).toBe('write failed: still down');
    f.worked('write');
    f.worked('write');
    expect(said.slice(3)).toEqual(['write works again after 11']);
    // 'read' is still failing: it is said again only a minute after it was said.
    f.failed('read', new Error('down'));
    expect(said).toHaveLength(4);
  });
});

describe('a probe round whose state cannot be read', () => {
  let server: Server | undefined;
  afterEach(async () => {
    if (server !== undefined) await new Promise((r) => server?.close(r));
    server = undefined;
  });

  it('probes the targets of the last state read, and tells why; with none read yet, the timer goes on', async () => {
    let probes = 0;
    server = createServer((_req, res) => {
      probes++;
      res.writeHead(421, { 'x-cdn-node': 'e1' }).end();
    });
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    // A real store (closed below: its queries then fail, as with a database down).
    const store = await openStore({ url: 'sqlite::memory:' });
    await store.writeState(
      parseSpec({
        edges: [{ name: 'e1', host: { v4: '127.0.0.1' }, listen: { http: port } }],
        sites: [],
      }),
      { actor: 'test', action: 'spec.apply', subject: '', detail: {} },
    );
    const errors: unknown[] = [];
    let recovered = 0;
    let failing = false;
    const prober = new Prober({
      readState: () => (failing ? Promise.reject(new Error('gone')) : store.readState()),
      intervalMs: 20,
      timeoutMs: 1000,
      onError: (err) => errors.push(err),
      onRecovered: () => recovered++,
    });
    await prober.runOnce();
    failing = true;
    await prober.runOnce();
    await prober.runOnce();
    expect(probes).toBe(3);
    expect(errors.map((e) => (e as Error).message)).toEqual(['gone', 'gone']);
    expect(prober.book.get('edge:e1').state).toBe('up');
    expect(recovered).toBe(0);
    failing = false;
    await prober.runOnce();
    expect(recovered).toBe(1);
    await prober.runOnce();
    expect(recovered).toBe(1);
    await store.close();

    // Nothing read yet, and every read fails: the rounds fail (told), the timer keeps going,
    // and no rejection goes unhandled (vitest fails a run that has one).
    const told: unknown[] = [];
    const never = new Prober({
      readState: () => store.readState(),
      intervalMs: 20,
      timeoutMs: 1000,
      onError: (err) => told.push(err),
    });
    await never.start();
    const until = Date.now() + 10_000;
    while (told.length < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    await never.stop();
    expect(told.length).toBeGreaterThanOrEqual(3);
  });
});

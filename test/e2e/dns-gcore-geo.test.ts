// GCore GeoDNS end to end against the stand-in that answers as GCore's guides describe:
// request bodies vs a golden file; a second apply writes nothing when GCore returns notes as a
// list and pickers as `filters`; who answers clients from nine countries with all edges up,
// one down, all down (the origin) and the origin down (still edges); drain; timeout limit.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyDnsPlan, createDnsProvider, planDnsChanges } from '../../src/dns/index.js';
import { validateSpec, type Spec } from '../../src/spec/index.js';
import { startGcoreApi, type GcoreStandIn } from '../support/gcore-api.js';
import {
  COUNTRIES,
  EDGES,
  EXPECTED,
  ORIGIN,
  scenarioSpec,
  startScenario,
  who,
  type EdgeName,
  type Scenario,
} from '../support/dns-scenario.js';

const KEY = 'gc$key';
const GOLDEN = new URL('./golden/dns-gcore-bodies.json', import.meta.url);
const dnsSettings = (api: GcoreStandIn) => ({
  provider: 'gcore',
  api_token: 'env:GCORE_KEY',
  api_url: api.apiUrl,
});
const provider = (spec: Spec) => {
  if (spec.dns === undefined) throw new Error('no dns');
  return createDnsProvider(spec.dns, { secretVars: { GCORE_KEY: KEY }, retryBaseMs: 5 });
};

async function sync(spec: Spec) {
  const p = provider(spec);
  const res = await applyDnsPlan(p, await planDnsChanges(p, spec));
  expect(res.map((r) => r.error)).toEqual([null]);
  return res;
}

describe('GCore GeoDNS as the guides describe it (stand-in)', () => {
  let api: GcoreStandIn;
  let sc: Scenario;

  beforeAll(async () => {
    api = await startGcoreApi({ apiKey: KEY, zones: ['example.com'], pickersField: 'filters' });
    sc = await startScenario();
  });
  afterAll(async () => {
    await sc?.stop();
    await api?.stop();
  });

  const answers = async () => {
    const out: Record<string, string> = {};
    for (const c of COUNTRIES) {
      const got = await api.answer('example.com', 'www.example.com', 'A', { country: c });
      // never an empty answer, always exactly one address (first_n 1)
      expect(got, `answer for ${c}`).toHaveLength(1);
      out[c] = who(got[0] ?? '');
    }
    return out;
  };

  it('sends the documented bodies (golden file), refusing nothing; a second apply writes nothing', async () => {
    // a fixed port so that the golden file does not depend on a free port
    const spec = scenarioSpec(8080, dnsSettings(api));
    await sync(spec);
    const bodies = api.writes().map((c) => ({ method: c.method, path: c.path, body: c.body }));
    const text = JSON.stringify(bodies, null, 2) + '\n';
    if (process.env.UPDATE_GOLDEN === '1' || !existsSync(GOLDEN)) {
      writeFileSync(GOLDEN, text);
      if (process.env.UPDATE_GOLDEN !== '1')
        throw new Error(`recorded ${GOLDEN.pathname}: check it`);
    }
    // compared as JSON, so that the file may be formatted by prettier
    expect(JSON.parse(text)).toEqual(JSON.parse(readFileSync(GOLDEN, 'utf8')));

    // GCore hands the set back with `filters` and notes lists: nothing to change
    const writes = api.writes().length;
    const p = provider(spec);
    const again = await planDnsChanges(p, spec);
    expect(again.zones.flatMap((z) => z.changes)).toEqual([]);
    expect(again.zones[0]?.unmanaged).toEqual([]);
    await applyDnsPlan(p, again);
    expect(api.writes().length).toBe(writes);
  });

  it('still owns a set whose notes an older Outpost wrote as a string (one replace, then none)', async () => {
    const spec = scenarioSpec(8080, dnsSettings(api));
    const stored = api.zones.get('example.com')?.get('www.example.com A');
    if (stored === undefined) throw new Error('not published');
    api.zones.get('example.com')?.set('www.example.com A', {
      ...stored,
      pickers: [{ type: 'geodns' }, { type: 'weighted_shuffle' }, { type: 'first_n', limit: 1 }],
      resource_records: stored.resource_records.map((r) => ({
        ...r,
        meta: { ...r.meta, notes: `${(r.meta?.notes ?? []).join(' ')}` as unknown as string[] },
      })),
    });
    const p = provider(spec);
    const plan = await planDnsChanges(p, spec);
    expect(plan.zones[0]?.unmanaged).toEqual([]);
    expect(plan.zones[0]?.changes.map((c) => `${c.action} ${c.name} ${c.type}`)).toEqual([
      'replace www.example.com A',
    ]);
    expect((await applyDnsPlan(p, plan)).map((r) => r.error)).toEqual([null]);
    expect((await planDnsChanges(p, spec)).zones[0]?.changes).toEqual([]);
  });

  it('answers the nearest healthy edge per country; one down → next nearest; all down → origin; origin down → edges', async () => {
    await sync(scenarioSpec(sc.port, dnsSettings(api), { endToEnd: true }));
    expect(await answers()).toEqual(EXPECTED.allUp);

    sc.health.set('fra', 'failing');
    expect(await answers()).toEqual(EXPECTED.fraDown);
    sc.health.set('fra', 'up');

    sc.health.set('tok', 'failing');
    expect(await answers()).toEqual(EXPECTED.tokDown);
    sc.health.set('tok', 'up');

    for (const e of Object.keys(EDGES) as EdgeName[]) sc.health.set(e, 'failing');
    const all = await answers();
    expect(Object.values(all)).toEqual(COUNTRIES.map(() => 'origin'));
    for (const e of Object.keys(EDGES) as EdgeName[]) sc.health.set(e, 'up');

    // the origin fails: edges still answer their own health, so users stay on the edges
    sc.originUp.value = false;
    expect(await answers()).toEqual(EXPECTED.allUp);
    sc.originUp.value = true;
    expect(sc.healthHits.get('fra')).toBeGreaterThan(0);
  });

  it('a drained edge leaves the answers (enabled: false) and comes back when undrained', async () => {
    const base = scenarioSpec(sc.port, dnsSettings(api));
    const drained: Spec = {
      ...base,
      edges: base.edges.map((e) => (e.name === 'fra' ? { ...e, drain: true } : e)),
    };
    await sync(drained);
    const rec = api.zones
      .get('example.com')
      ?.get('www.example.com A')
      ?.resource_records.find((r) => r.content[0] === EDGES.fra.v4);
    expect(rec?.enabled).toBe(false);
    const got = await answers();
    expect(got.DE).toBe('iad');
    expect(got.GB).toBe('iad');
    await sync(base);
    expect((await answers()).DE).toBe('fra');
  });

  it('refuses a health-check timeout above GCore limit at validation, naming the field', () => {
    const v = validateSpec({
      edges: [{ name: 'e', host: { v4: '127.0.12.2' } }],
      sites: [
        {
          domain: 'www.example.com',
          origins: [{ host: { v4: ORIGIN } }],
          health_check: { timeout: 11 },
        },
      ],
      dns: dnsSettings(api),
    });
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.problems.map((p) => [p.path, p.message])).toEqual([
      ['sites[0].health_check.timeout', 'is 11; GCore health checks allow at most 10 seconds'],
    ]);
  });
});

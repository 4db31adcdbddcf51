// The OpenAPI document at /docs/json against the real control plane: every route Fastify
// registered (its onRoute hook, not a hand list) has an operation with a response schema for
// its success status; then a walk through the API over real HTTP (edges, sites, state, status,
// certificates, DNS at the GCore stand-in, purges, the edge API, access, install files) checks
// each answer against the published operation: its status must be documented, and a JSON
// body must validate (ajv) against the published schema of that status.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAdminToken } from '../../src/http/admin-auth.js';
import { registeredRoutes } from '../../src/http/openapi.js';
import { buildControlPlane } from '../../src/server/app.js';
import { webDistDir } from '../../src/server/web.js';
import { openStore, type Store } from '../../src/store/index.js';
import { startGcoreApi, type GcoreStandIn } from '../support/gcore-api.js';
import { selfSignedCertificate } from '../support/tls.js';

const GCORE_KEY = 'key$for$the$stand-in';
const SITE = 'shop.openapi.test';

/**
 * Routes that are not part of the API, so not in the document: the pages of the API docs
 * themselves (@fastify/swagger-ui), and the admin UI (hidden GETs of `/`, `/*` and, when the UI
 * is built, one per file of its build, registered by @fastify/static).
 */
const NOT_API = (method: string, url: string, schema: Record<string, unknown> | undefined) => {
  if (url === '/docs' || url.startsWith('/docs/')) return true;
  if (method !== 'GET' || schema?.hide !== true) return false;
  const ui = webDistDir();
  return url === '/' || url === '/*' || (ui !== undefined && existsSync(join(ui, url)));
};

interface Operation {
  parameters?: { in: string; name: string }[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: object }> }>;
}
interface OpenApiDoc {
  paths: Record<string, Record<string, Operation>>;
}

/**
 * An OpenAPI 3.0 schema object as JSON Schema draft 7 for ajv: 3.0 spells an exclusive bound
 * as `exclusiveMinimum: true` beside `minimum` (OpenAPI 3.0.3, "Schema Object"); draft 7 as
 * `exclusiveMinimum: <bound>`. `nullable` ajv knows.
 */
function draft7(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(draft7);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) out[k] = draft7(v);
  for (const [flag, bound] of [
    ['exclusiveMinimum', 'minimum'],
    ['exclusiveMaximum', 'maximum'],
  ] as const) {
    if (out[flag] === true) {
      out[flag] = out[bound];
      delete out[bound];
    } else if (out[flag] === false) delete out[flag];
  }
  return out;
}

/** `/v1/edges/:name` as OpenAPI writes it. */
const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

interface Seen {
  method: string;
  url: string;
  status: number;
  type: string;
  body: string;
}

describe('OpenAPI at /docs: every route, its real status codes, answers that validate', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'outpost-openapi-'));
  let store: Store;
  let app: FastifyInstance;
  let gcore: GcoreStandIn;
  let base = '';
  let admin = '';
  let doc: OpenApiDoc;
  const seen: Seen[] = [];

  /** One request over HTTP; its answer is kept for the check against the document. */
  const call = async (
    method: string,
    url: string,
    opts: { body?: unknown; token?: string | null; headers?: Record<string, string> } = {},
  ) => {
    const headers: Record<string, string> = { ...opts.headers };
    const token = opts.token === undefined ? admin : opts.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${base}${url}`, {
      method,
      headers,
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    });
    const type = res.headers.get('content-type') ?? '';
    // The event stream never ends: its head is the answer.
    const body = type.startsWith('text/event-stream') ? '' : await res.text();
    if (type.startsWith('text/event-stream')) await res.body?.cancel();
    seen.push({ method, url, status: res.status, type, body });
    return {
      status: res.status,
      headers: res.headers,
      text: body,
      json: <T = Record<string, unknown>>() => JSON.parse(body) as T,
    };
  };
  const ok = async (
    method: string,
    url: string,
    status: number,
    opts: Parameters<typeof call>[2] = {},
  ) => {
    const res = await call(method, url, opts);
    expect(res.status, `${method} ${url}: ${res.text.slice(0, 300)}`).toBe(status);
    return res;
  };

  beforeAll(async () => {
    gcore = await startGcoreApi({ apiKey: GCORE_KEY, zones: ['openapi.test'] });
    store = await openStore({ url: `sqlite:${join(tmp, 'outpost.db')}` });
    admin = (await ensureAdminToken(store)) ?? '';
    app = await buildControlPlane({
      store,
      logger: pino({ level: 'silent' }),
      publicUrl: 'http://127.0.0.1:9',
      version: '0.0.0-test',
      probeIntervalMs: 60_000,
      probeTimeoutMs: 500,
      secretVars: { GCORE_KEY },
      certificates: { checkIntervalMs: 600_000 },
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    const res = await fetch(`${base}/docs/json`);
    expect(res.status).toBe(200);
    doc = (await res.json()) as OpenApiDoc;
  });

  afterAll(async () => {
    await app?.close();
    await store?.close();
    await gcore?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('every registered route has an operation with a response schema for its success status', () => {
    const routes = registeredRoutes(app).filter(
      (r) => r.method !== 'HEAD' && !NOT_API(r.method, r.url, r.schema),
    );
    expect(routes.length).toBeGreaterThan(50);
    const missing: string[] = [];
    for (const r of routes) {
      const name = `${r.method} ${r.url}`;
      const op = doc.paths[openApiPath(r.url)]?.[r.method.toLowerCase()];
      if (op === undefined) {
        missing.push(`${name}: not in /docs/json`);
        continue;
      }
      const success = Object.entries(op.responses).filter(([s]) => /^2\d\d$/.test(s));
      if (success.length === 0) missing.push(`${name}: no 2xx answer`);
      for (const [status, answer] of success) {
        const bodyless = status === '204';
        if (!bodyless && answer.content === undefined)
          missing.push(`${name}: ${status} without a response schema`);
        if (answer.description === 'Default Response')
          missing.push(`${name}: ${status} is the default, undocumented answer`);
      }
      for (const p of r.url.matchAll(/:([A-Za-z0-9_]+)/g))
        if (!op.parameters?.some((q) => q.in === 'path' && q.name === p[1]))
          missing.push(`${name}: path parameter ${p[1]} undocumented`);
      if (!op.responses['500']) missing.push(`${name}: no 500 (internal) answer`);
    }
    expect(missing).toEqual([]);
  });

  it('the status codes, query parameters and bodies the issue named are documented', () => {
    const op = (method: string, path: string) => doc.paths[path]?.[method];
    expect(Object.keys(op('post', '/v1/edges')?.responses ?? {})).toContain('201');
    expect(Object.keys(op('post', '/v1/edges')?.responses ?? {})).not.toContain('200');
    expect(Object.keys(op('post', '/v1/sites')?.responses ?? {})).toContain('201');
    expect(Object.keys(op('post', '/v1/sites/{domain}/purge')?.responses ?? {})).toContain('202');
    expect(Object.keys(op('post', '/v1/edge/report')?.responses ?? {})).toContain('204');
    expect(op('post', '/v1/edge/report')?.responses['204']?.content).toBeUndefined();
    expect(Object.keys(op('delete', '/v1/certificates/{domain}')?.responses ?? {})).toContain(
      '409',
    );
    const query = (method: string, path: string) =>
      (op(method, path)?.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
    expect(query('get', '/v1/events')).toEqual(expect.arrayContaining(['limit', 'before']));
    expect(query('get', '/v1/dns/plan')).toEqual(['prune']);
    expect(query('delete', '/v1/certificates/{domain}')).toEqual(['force']);
    expect(query('get', '/v1/edge/poll')).toEqual(['wait']);
    for (const [method, path] of [
      ['post', '/v1/dns/apply'],
      ['post', '/v1/apply'],
      ['post', '/v1/edges'],
      ['put', '/v1/sites/{domain}'],
      ['post', '/v1/sites/{domain}/purge'],
      ['put', '/v1/certificates/{domain}'],
      ['post', '/v1/tokens'],
      ['post', '/v1/login'],
      ['post', '/v1/edge/report'],
    ] as const)
      expect(
        op(method, path)?.requestBody?.content['application/json'],
        `${method} ${path}`,
      ).toBeDefined();
    // An error answer is the OutpostError body, its code one of those the status carries.
    const notFound = op('get', '/v1/sites/{domain}')?.responses['404'];
    expect(notFound?.description).toBe('not_found');
    expect(JSON.stringify(notFound?.content)).toContain('"enum":["not_found"]');
  });

  it('a walk through the API: every answer has a documented status and validates', async () => {
    // Desired state: a whole document, then the edits one by one.
    const spec = {
      edges: [{ name: 'fra1', host: { v4: '127.0.0.2' }, meta: { countries: ['DE'] } }],
      sites: [
        {
          domain: SITE,
          origins: [{ host: { v4: '127.0.0.1' }, port: 9, protocol: 'http' }],
          tls: { acme: false },
        },
        {
          domain: `acme.${SITE}`,
          origins: [{ host: { v4: '127.0.0.1' }, port: 9, protocol: 'http' }],
        },
      ],
      dns: { provider: 'gcore', api_token: 'env:GCORE_KEY', api_url: gcore.apiUrl },
      acme: { email: 'ops@openapi.test', directory_url: 'http://127.0.0.1:9/directory' },
    };
    await ok('POST', '/v1/apply', 200, { body: { spec, dry_run: true } });
    const applied = await ok('POST', '/v1/apply', 200, { body: { spec } });
    const edgeToken = applied.json<{ edge_tokens: Record<string, string> }>().edge_tokens.fra1;
    expect(edgeToken).toMatch(/^ope_/);
    await ok('POST', '/v1/apply', 400, { body: { spec: { sites: [{ domain: 'x;' }] } } });
    await ok('GET', '/v1/state', 200);
    const yaml = await ok('GET', '/v1/state/yaml', 200);
    expect(yaml.text).toContain(SITE);
    await ok('GET', '/v1/events?limit=5', 200);
    const events = (await ok('GET', '/v1/events?limit=1', 200)).json<{
      events: { id: number }[];
    }>();
    await ok('GET', `/v1/events?limit=5&before=${events.events[0]?.id ?? 1}`, 200);

    const sites = await ok('GET', '/v1/sites', 200);
    // One page, a 304 for its validator, a limit out of bounds (w6-sites).
    await ok('GET', `/v1/sites?limit=1&after=${SITE}`, 200);
    await ok('GET', '/v1/sites?limit=1', 304, {
      headers: { 'if-none-match': sites.headers.get('etag') ?? '' },
    });
    await ok('GET', '/v1/sites?limit=0', 400);
    await ok('GET', `/v1/sites/${SITE}`, 200);
    await ok('GET', '/v1/sites/nope.test', 404);
    const site = { domain: `tmp.${SITE}`, origins: [{ host: 'origin.openapi.test' }] };
    await ok('POST', '/v1/sites', 201, { body: site });
    await ok('POST', '/v1/sites', 409, { body: site });
    await ok('POST', '/v1/sites', 400, { body: { domain: 'no origins.test' } });
    await ok('PUT', `/v1/sites/tmp.${SITE}`, 200, { body: { ...site, dns_ttl: 30 } });
    await ok('DELETE', `/v1/sites/tmp.${SITE}`, 200);

    await ok('GET', '/v1/edges', 200);
    await ok('GET', '/v1/edges/fra1', 200);
    await ok('GET', '/v1/edges/nope', 404);
    const edge = { name: 'tmp1', host: { v4: '127.0.0.4' } };
    await ok('POST', '/v1/edges', 201, { body: edge });
    await ok('PUT', '/v1/edges/tmp1', 200, { body: { ...edge, paused: true } });
    await ok('POST', '/v1/edges/tmp1/token', 200);
    await ok('DELETE', '/v1/edges/tmp1/token', 200);
    await ok('DELETE', '/v1/edges/tmp1', 200);
    await ok('GET', '/v1/edges/fra1/plan', 200);

    // The edge API, with the edge's own token.
    const edgeCall = { token: edgeToken ?? '' };
    await ok('GET', '/v1/edge/hello', 200, edgeCall);
    await ok('GET', '/v1/edge/hello', 401, { token: 'ope_wrong' });
    const bundle = await ok('GET', '/v1/edge/bundle?wait=10', 200, edgeCall);
    const etag = bundle.headers.get('etag') ?? '';
    await ok('GET', '/v1/edge/bundle?wait=0', 304, {
      ...edgeCall,
      headers: { 'if-none-match': etag },
    });
    await ok('GET', '/v1/edge/bundle?wait=0&full=1', 200, edgeCall);
    // Release contents by hash: one the manifest names, one it does not, a bad body.
    const manifest = JSON.parse(bundle.json<{ manifest: string }>().manifest) as {
      files: { sha256: string }[];
    };
    const named = manifest.files[0]?.sha256 ?? '';
    expect(named).toMatch(/^[0-9a-f]{64}$/);
    const files = await ok('POST', '/v1/edge/files', 200, {
      ...edgeCall,
      body: { hashes: [named] },
    });
    expect(Object.keys(files.json<{ files: Record<string, string> }>().files)).toEqual([named]);
    await ok('POST', '/v1/edge/files', 404, { ...edgeCall, body: { hashes: ['0'.repeat(64)] } });
    await ok('POST', '/v1/edge/files', 400, { ...edgeCall, body: { hashes: ['nope'] } });
    await ok('GET', `/v1/edge/files/${named}`, 200, edgeCall);
    await ok('GET', `/v1/edge/files/${'f'.repeat(64)}`, 404, edgeCall);
    await ok('GET', '/v1/edge/poll?wait=0', 200, edgeCall);
    await ok('GET', '/v1/edge/poll?wait=0', 304, {
      ...edgeCall,
      headers: { 'if-none-match': etag },
    });
    const now = new Date().toISOString();
    await ok('POST', '/v1/edge/report', 204, {
      ...edgeCall,
      body: {
        agent_version: 'test',
        applied_release: null,
        applied_hash: null,
        failed_release: null,
        last_error: null,
        proxy: 'nginx',
        proxy_running: true,
        started_at: now,
      },
    });
    await ok('POST', '/v1/edge/report', 400, { ...edgeCall, body: { proxy: 'apache' } });

    // Purges: created, polled by the edge, reported, followed.
    const purge = await ok('POST', `/v1/sites/${SITE}/purge`, 202, {
      body: { kind: 'urls', paths: ['/a.css'] },
    });
    const purgeId = purge.json<{ job: { id: number } }>().job.id;
    await ok('POST', `/v1/sites/${SITE}/purge`, 400, { body: { kind: 'urls', paths: ['a'] } });
    await ok('POST', '/v1/sites/nope.test/purge', 404, { body: { kind: 'all' } });
    const polled = await ok('GET', '/v1/edge/poll?wait=0', 200, {
      ...edgeCall,
      headers: { 'if-none-match': etag },
    });
    expect(polled.json<{ purges: unknown[] }>().purges).toHaveLength(1);
    await ok('POST', '/v1/edge/purges', 204, {
      ...edgeCall,
      body: { results: [{ id: purgeId, ok: true, removed: 1, error: null }] },
    });
    await ok('GET', `/v1/purges/${purgeId}`, 200);
    await ok('GET', '/v1/purges/999999', 404);

    // Logs on demand: the admin asks, the edge finds the request in its poll and answers.
    const asked = ok('GET', `/v1/sites/${SITE}/logs?status=404&wait=10`, 200);
    const logPoll = await ok('GET', '/v1/edge/poll?wait=10', 200, {
      ...edgeCall,
      headers: { 'if-none-match': etag },
    });
    const logRequest = logPoll.json<{ logs: { id: string }[] }>().logs[0];
    expect(logRequest).toBeDefined();
    await ok('POST', '/v1/edge/logs', 204, {
      ...edgeCall,
      body: {
        id: logRequest?.id,
        lines: [
          {
            time: now,
            site: SITE,
            host: SITE,
            remote: '127.0.0.1',
            method: 'GET',
            uri: '/missing',
            status: 404,
            bytes: 10,
            cache: 'MISS',
            request_time: 0.001,
            upstream_time: '0.001',
            upstream: '127.0.0.1:9',
          },
        ],
        cursor: { file: 1, offset: 200 },
        truncated: false,
        error: null,
      },
    });
    expect((await asked).json<{ lines: unknown[] }>().lines).toHaveLength(1);
    await ok('POST', '/v1/edge/logs', 400, { ...edgeCall, body: { id: 'x' } });
    await ok('GET', `/v1/sites/${SITE}/logs?status=4x4`, 400);
    await ok('GET', '/v1/sites/nope.test/logs', 404);

    // Status, its stream, metrics, the public page, liveness.
    await ok('GET', '/v1/status', 200);
    await ok('GET', `/v1/status/sites/${SITE}`, 200);
    await ok('GET', '/v1/status/sites/nope.test', 404);
    await ok('GET', '/v1/events/stream', 200);
    await ok('GET', '/metrics', 200);
    await ok('GET', '/v1/public/status', 200, { token: null });
    await ok('GET', '/healthz', 200, { token: null });
    await ok('GET', '/v1/status', 401, { token: 'opa_wrong' });

    // Certificates: an upload, its detail, a failed ACME attempt, removal.
    const { certFile, keyFile } = selfSignedCertificate(tmp, [SITE]);
    const pem = { certificate: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
    await ok('PUT', `/v1/certificates/${SITE}`, 200, { body: pem });
    await ok('PUT', `/v1/certificates/${SITE}`, 400, { body: { ...pem, key: 'not a key' } });
    await ok('GET', '/v1/certificates', 200);
    await ok('GET', `/v1/certificates/${SITE}`, 200);
    await ok('DELETE', `/v1/certificates/${SITE}?force=maybe`, 400);
    await ok('DELETE', `/v1/certificates/${SITE}?force=false`, 200);
    await ok('DELETE', `/v1/certificates/${SITE}`, 404);
    await ok('POST', `/v1/certificates/${SITE}/issue`, 400);
    const started = await ok('POST', `/v1/certificates/acme.${SITE}/issue`, 202);
    const attemptId = started.json<{ attempt: { id: string } }>().attempt.id;
    await ok('GET', `/v1/certificates/acme.${SITE}/attempts/${attemptId}?after=0&wait=1`, 200);
    await ok('GET', `/v1/certificates/acme.${SITE}/attempts/nope`, 404);
    await ok('GET', '/.well-known/acme-challenge/unknown-token', 404, { token: null });

    // DNS at the GCore stand-in.
    await ok('GET', '/v1/dns/plan?prune=true', 200);
    await ok('POST', '/v1/dns/apply', 200, { body: { prune: false } });
    await ok('POST', '/v1/dns/apply', 400, { body: { prune: 'yes' } });
    await ok('GET', '/v1/dns/status', 200);

    // Access: tokens, users, login, whoami; a scope that is not enough.
    const created = await ok('POST', '/v1/tokens', 201, {
      body: { name: 'reader', scopes: ['read'] },
    });
    const reader = created.json<{ value: string }>().value;
    await ok('POST', '/v1/tokens', 409, { body: { name: 'reader', scopes: ['read'] } });
    await ok('GET', '/v1/tokens', 200);
    await ok('GET', '/v1/whoami', 200, { token: reader });
    await ok('POST', '/v1/edges', 403, { token: reader, body: edge });
    await ok('DELETE', '/v1/tokens/reader', 200);
    await ok('DELETE', '/v1/tokens/reader', 404);
    const password = 'correct horse battery';
    await ok('POST', '/v1/users', 201, { body: { name: 'ann', scopes: ['read'], password } });
    await ok('GET', '/v1/users', 200);
    await ok('POST', '/v1/login', 200, { token: null, body: { user: 'ann', password } });
    await ok('POST', '/v1/login', 401, { token: null, body: { user: 'ann', password: 'wrong' } });
    await ok('PUT', '/v1/users/ann/password', 200, { body: { password: `${password}!` } });
    await ok('PUT', '/v1/users/ann/password', 400, { body: { password: 'short' } });
    await ok('DELETE', '/v1/users/ann', 200);
    await ok('DELETE', '/v1/users/ann', 404);
    // This control plane runs without a secret key file: 503, as documented.
    await ok('POST', '/v1/secrets/rotate-key', 503);

    // History, the public status page and its settings (issue 18).
    for (const range of ['1h', '24h', '7d', '90d'])
      await ok('GET', `/v1/history/edges?range=${range}`, 200);
    await ok('GET', '/v1/history/edges?range=1y', 400);
    await ok('GET', '/v1/history/edges/fra1', 200);
    await ok('GET', '/v1/history/edges/nope', 404);
    await ok('GET', `/v1/history/sites/${SITE}?range=24h`, 200);
    await ok('GET', '/v1/history/sites/nope.test', 404);
    const settings = await ok('GET', '/v1/status/settings', 200);
    await ok('PUT', '/v1/status/settings', 200, {
      body: { ...settings.json<Record<string, unknown>>(), title: 'Our CDN', site_pages: true },
    });
    await ok('PUT', '/v1/status/settings', 400, { body: { title: '' } });
    await ok('GET', '/v1/public/status/history', 200, { token: null });
    await ok('GET', `/v1/public/status/sites/${SITE}`, 200, { token: null });
    await ok('GET', '/v1/public/status/sites/nope.test', 404, { token: null });
    await ok('GET', `/v1/public/badge/${SITE}.svg`, 200, { token: null });
    await ok('GET', '/v1/public/badge/nope', 404, { token: null });

    // Notification channels (issue 18): a webhook nothing listens on fails its test with 502.
    await ok('GET', '/v1/alerts', 200);
    await ok('POST', '/v1/alerts/channels', 201, {
      body: {
        name: 'ops',
        settings: { type: 'webhook', url: 'http://127.0.0.1:9/hook' },
        secret: 'a shared secret for the signature',
      },
    });
    await ok('POST', '/v1/alerts/channels', 409, {
      body: {
        name: 'ops',
        settings: { type: 'webhook', url: 'http://127.0.0.1:9/hook' },
        secret: 'a shared secret for the signature',
      },
    });
    await ok('POST', '/v1/alerts/channels', 400, {
      body: { name: 'bad', settings: { type: 'webhook', url: 'ftp://x' } },
    });
    await ok('GET', '/v1/alerts/channels', 200);
    await ok('POST', '/v1/alerts/channels/ops/test', 502);
    await ok('POST', '/v1/alerts/channels/nope/test', 404);
    await ok('DELETE', '/v1/alerts/channels/ops', 200);
    await ok('DELETE', '/v1/alerts/channels/ops', 404);

    // What a new edge downloads (the agent executable exists only after `npm run release`).
    await ok('GET', '/install.sh', 200, { token: null });
    await ok('GET', '/v1/install/outpost-agent.service', 200, { token: null });
    for (const url of ['/v1/install/agent.sha256', '/v1/install/agent']) {
      const res = await call('GET', url, { token: null });
      expect([200, 503], url).toContain(res.status);
    }

    // Every answer against the document.
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    const templates = Object.keys(doc.paths).map((p) => ({
      path: p,
      params: (p.match(/\{/g) ?? []).length,
      re: new RegExp(`^${p.replace(/\{[^}]+\}/g, '[^/]+')}$`),
    }));
    const problems: string[] = [];
    const covered = new Set<string>();
    for (const s of seen) {
      const path = s.url.split('?')[0] ?? s.url;
      const template = templates
        .filter((t) => t.re.test(path))
        .sort((a, b) => a.params - b.params)[0];
      const name = `${s.method} ${s.url} → ${s.status}`;
      const op = template && doc.paths[template.path]?.[s.method.toLowerCase()];
      if (!template || !op) {
        problems.push(`${name}: no operation`);
        continue;
      }
      covered.add(`${s.method} ${template.path}`);
      const answer = op.responses[String(s.status)];
      if (answer === undefined) {
        problems.push(`${name}: status not documented (${Object.keys(op.responses).join(', ')})`);
        continue;
      }
      if (s.status === 204 || s.status === 304) {
        if (answer.content !== undefined) problems.push(`${name}: documented with a body`);
        continue;
      }
      const media = Object.keys(answer.content ?? {})[0] ?? '';
      if (!s.type.startsWith(media)) {
        problems.push(`${name}: content type ${s.type}, documented ${media}`);
        continue;
      }
      if (media !== 'application/json') continue;
      const schema = answer.content?.[media]?.schema ?? {};
      const validate = ajv.compile(draft7(schema) as object);
      if (!validate(JSON.parse(s.body)))
        problems.push(`${name}: ${ajv.errorsText(validate.errors)} in ${s.body.slice(0, 200)}`);
    }
    expect(problems).toEqual([]);
    // The walk went through every documented operation.
    const operations = Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
    );
    expect(operations.filter((o) => !covered.has(o))).toEqual([]);
  });

  it('a route answer the schema does not allow fails the check (the check can fail)', () => {
    const ajv = new Ajv({ strict: false, validateFormats: false });
    const schema =
      doc.paths['/v1/edges']?.get?.responses['200']?.content?.['application/json']?.schema;
    expect(schema).toBeDefined();
    const validate = ajv.compile(draft7(schema ?? {}) as object);
    expect(validate({ revision: 1, edges: [] })).toBe(true);
    expect(validate({ revision: 1, edges: [], surprise: true })).toBe(false);
    expect(validate({ revision: '1', edges: [] })).toBe(false);
  });
});

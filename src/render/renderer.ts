// The renderer contract: an EdgePlan in, the release files of one proxy out. Pure (same plan
// and options, same bytes). One adapter per proxy kind, registered by the kind an edge names in
// its spec (`proxy: nginx | caddy`); each adapter is checked against the interface with
// `satisfies`, so a renderer that drifts from it fails the typecheck. What the renderers must
// DO with those files (which site answers, cache decisions, modifiers, headers, TLS to the
// origin) is the behaviour table in renderer.contract.test.ts, run on a real nginx and Caddy.
import type { EdgePlan } from '../compile/index.js';
import type { RenderedFile } from '../bundle/layout.js';
import type { Edge } from '../spec/index.js';
import { renderCaddyRelease } from './caddy.js';
import { renderNginx } from './nginx.js';

/** The proxy an edge runs (`Edge.proxy` in the spec). */
export type ProxyKind = Edge['proxy'];

export interface RenderOptions {
  /** Monotonic release number, sent in `X-Outpost-Release`. */
  release: number;
  /** Site domains whose certificate files are in the release (`certs/<stem>.crt|.key`). */
  certificates: readonly string[];
  /** Domains whose OCSP response is in the release (nginx staples it; Caddy staples itself). */
  staples?: readonly string[];
  /** The control plane's public URL, when it answers ACME HTTP-01 challenges via the edges. */
  acmeChallengeUrl?: string;
}

export interface Renderer {
  readonly proxy: ProxyKind;
  /** Every file of the release for this proxy (certificates are added by the bundle). */
  render(plan: EdgePlan, opts: RenderOptions): RenderedFile[];
}

const nginx = {
  proxy: 'nginx',
  render: (plan, opts) => renderNginx(plan, opts),
} as const satisfies Renderer;

/** Both Caddyfiles (with and without the cache module): the agent picks the one its Caddy can load. */
const caddy = {
  proxy: 'caddy',
  render: (plan, { staples: _staples, ...opts }) => renderCaddyRelease(plan, opts),
} as const satisfies Renderer;

/** The renderer of each proxy kind; a kind without one fails the typecheck. */
export const RENDERERS = { nginx, caddy } as const satisfies {
  [K in ProxyKind]: Renderer & { proxy: K };
};

export function rendererFor(proxy: ProxyKind): Renderer {
  return RENDERERS[proxy];
}

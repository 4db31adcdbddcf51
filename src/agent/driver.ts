// What the agent needs from an edge proxy (nginx or Caddy): build the main file that loads a
// release, validate it, load it (graceful reload, or start), tell whether it runs, stop it,
// and say what it can do. The agent's steps (verify, write, validate, switch, reload, probe,
// roll back) are the same for every proxy; the driver is picked by the manifest's `proxy`.
import type { BundleManifest } from '../bundle/index.js';

export type ProxyKind = BundleManifest['proxy'];

export interface ProxyRun {
  ok: boolean;
  /** The proxy's own words when it refused (empty when ok). */
  output: string;
}

export interface ProxyCapabilities {
  /** Responses are cached on the edge (nginx: always; Caddy: with http.handlers.cache). */
  cache: boolean;
}

export type MainFile = { ok: true; content: string } | { ok: false; output: string };

export interface ProxyDriver {
  readonly proxy: ProxyKind;
  /** The validation step as errors name it: `nginx -t`, `caddy validate`. */
  readonly validation: string;
  /** Name of the main file in live/ and candidate/. */
  readonly mainFile: string;
  /**
   * The main file for a release written at `releaseDir` (nginx: a nginx.conf including
   * `release/…`; Caddy: the release's Caddyfile adapted to JSON, with the edge-local settings).
   */
  main(manifest: BundleManifest, releaseDir: string): Promise<MainFile>;
  /** Checks a candidate main file without touching what is serving. */
  validate(mainPath: string): Promise<ProxyRun>;
  /** Makes the proxy serve `mainPath`: a graceful reload when it runs, else a start. */
  activate(mainPath: string): Promise<ProxyRun>;
  /**
   * Loads `mainPath` again after a failed activation (the roll back). Caddy restarts: a config
   * that failed while starting can leave one of its servers running (Caddy 2.6).
   */
  recover(mainPath: string): Promise<ProxyRun>;
  running(): Promise<boolean>;
  /** Graceful stop. */
  stop(mainPath: string): Promise<ProxyRun>;
  capabilities(): Promise<ProxyCapabilities>;
  /** The proxy's version as its binary says it (`nginx -v`, `caddy version`), if it does. */
  version(): Promise<string | undefined>;
}

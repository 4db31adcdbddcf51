// The configs of the two long-running processes, as zod schemas with their defaults: parsed
// once at start from the command line's flags over the environment, then injected. Nothing
// else holds a default for these settings.
import { isIP } from 'node:net';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import type { Environment } from './environment.js';

/** A setting that cannot be used; the message names the flag (and variable) at fault. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

const Listen = z
  .string()
  .regex(/^(?:\[[^\]]+\]|[^:[\]]+):\d{1,5}$/, 'must look like 127.0.0.1:8080 or [::1]:8080')
  .transform((listen, ctx) => {
    const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(listen);
    const port = Number(m?.[3]);
    if (port > 65535) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'the port must be 65535 or less' });
      return z.NEVER;
    }
    return { host: (m?.[1] ?? m?.[2]) as string, port };
  });

/** `auto` (the binary if installed here), `off`, or the binary's path. */
const Check = z.string().refine((v) => v === 'auto' || v === 'off' || v.startsWith('/'), {
  message: 'must be auto, off or an absolute path to the binary',
});

const Seconds = z.number({ invalid_type_error: 'must be a number of seconds' }).finite();

export const ControlPlaneConfig = z
  .object({
    /** Where the database lives. */
    dataDir: z
      .string()
      .min(1)
      .default('./data')
      .transform((d) => resolve(d)),
    /**
     * The store: absent, the SQLite file `outpost.db` in the data dir; or `postgres://…` for
     * several control planes on one database (docs/high-availability.md).
     */
    database: z
      .string()
      .regex(
        /^postgres(?:ql)?:\/\//,
        'must be a postgres:// URL (the default is SQLite in the data dir)',
      )
      .optional(),
    listen: Listen.default('127.0.0.1:8080'),
    /** The URL edges and the CLI use to reach this control plane; default: the bound address. */
    publicUrl: z.string().url().optional(),
    /**
     * The control-plane URLs the join command gives new edges, in order of preference (a comma
     * list; default: the public URL). With several control planes each may have its own URL.
     */
    joinServers: z
      .string()
      .transform((v) =>
        v
          .split(',')
          .map((u) => u.trim().replace(/\/+$/, ''))
          .filter((u) => u !== ''),
      )
      .pipe(z.array(z.string().url()).min(1, 'needs at least one URL'))
      .optional(),
    logLevel: LogLevel.default('info'),
    /** Check each edge rendering with `nginx -t` / `caddy validate` before publishing it. */
    nginxCheck: Check.default('auto'),
    caddyCheck: Check.default('auto'),
    /** Seconds between probes of edges and origins (0: no probes), and each probe's patience. */
    probeInterval: Seconds.nonnegative().default(10),
    probeTimeout: Seconds.positive().default(5),
    /**
     * The local address probes are sent from (a control plane with several networks; with
     * several control planes each probes from its own). Default: the system's choice.
     */
    probeSourceAddress: z
      .string()
      .refine((v) => isIP(v) !== 0, 'must be an IPv4 or IPv6 address of this machine')
      .optional(),
    /**
     * Alert notifications (docs/alerts.md): an alert fires after it was raised this long, resolves
     * after it was gone this long; a channel hears at most once per interval (grouped); the
     * alerts are read every check interval.
     */
    alertFireAfter: Seconds.nonnegative().default(30),
    alertResolveAfter: Seconds.nonnegative().default(120),
    alertInterval: Seconds.nonnegative().default(60),
    alertCheckInterval: Seconds.positive().default(5),
    /** PEM files: serve HTTPS with this certificate (chain) and key; both or neither. */
    tlsCert: z.string().min(1).optional(),
    tlsKey: z.string().min(1).optional(),
    /** Allow a plain http:// --public-url that is not loopback (edges need --insecure-http too). */
    insecureHttp: z.boolean().default(false),
    /** The key that seals secrets in the store; default: `outpost-secret.key` beside the data dir. */
    secretKeyFile: z
      .string()
      .min(1)
      .transform((f) => resolve(f))
      .optional(),
    /** Seconds `nginx -t` may take per edge; default: scaled to the rendering's size. */
    nginxCheckTimeout: Seconds.positive().optional(),
    /**
     * Seconds a build may go without a sign of progress before the build worker is stopped
     * and replaced (edges/build-worker.ts); default: 10 minutes, at least twice the above.
     */
    buildTimeout: Seconds.positive().optional(),
    /**
     * Seconds an apply may take in the apply worker before the worker is stopped and the apply
     * answers 503 (state/apply-worker.ts); default: 5 minutes.
     */
    applyTimeout: Seconds.positive().optional(),
    /** TEST ONLY (OUTPOST_TEST_HOLD_STATE_WRITE_MS): hold each state write open this long. */
    testHoldStateWriteMs: z.coerce
      .number({ invalid_type_error: 'must be a number of milliseconds' })
      .int()
      .nonnegative()
      .max(600_000)
      .optional(),
    /**
     * The country database (GeoIP2 layout: the file `outpost geoip build` writes) delivered to
     * nginx edges whose sites match on countries or continents; and a database with ASNs for
     * `asns` matchers (else the country one, if it has them). docs/protect.md.
     */
    geoipDatabase: z
      .string()
      .min(1)
      .transform((f) => resolve(f))
      .optional(),
    geoipAsnDatabase: z
      .string()
      .min(1)
      .transform((f) => resolve(f))
      .optional(),
  })
  .strict()
  .refine((c) => (c.tlsCert === undefined) === (c.tlsKey === undefined), {
    message: 'give both, or neither',
    path: ['tlsCert'],
  })
  .refine(
    (c) =>
      c.buildTimeout === undefined ||
      c.nginxCheckTimeout === undefined ||
      c.buildTimeout > c.nginxCheckTimeout,
    {
      message: 'must be longer than --nginx-check-timeout (a build runs nginx -t)',
      path: ['buildTimeout'],
    },
  );
export type ControlPlaneConfig = z.infer<typeof ControlPlaneConfig>;

/**
 * The secret key file: --secret-key-file, else `outpost-secret.key` beside (outside) the data
 * dir, so a copy of the data dir alone reveals no secret.
 */
export function secretKeyFileOf(
  config: Pick<ControlPlaneConfig, 'dataDir' | 'secretKeyFile'>,
): string {
  return config.secretKeyFile ?? join(dirname(config.dataDir), 'outpost-secret.key');
}

export const AgentConfig = z
  .object({
    /** The control-plane URLs, in order of preference (the agent fails over between them). */
    servers: z
      .array(z.string().url(), { required_error: 'is required' })
      .min(1, 'is required')
      .refine((l) => new Set(l).size === l.length, 'names a URL twice'),
    tokenFile: z.string({ required_error: 'is required' }).min(1),
    /** State directory: releases, the nginx prefix, the cache. */
    root: z
      .string()
      .min(1)
      .default('/var/lib/outpost-agent')
      .transform((d) => resolve(d)),
    nginx: z.string().min(1).default('/usr/sbin/nginx'),
    caddy: z.string().min(1).default('/usr/bin/caddy'),
    /** Expected `sha256:…` fingerprint of the control plane's signing key. */
    pin: z.string().optional(),
    /** nginx's worker user when the agent runs as root. */
    nginxUser: z.string().min(1).optional(),
    /** Long-poll duration and seconds between reports. */
    wait: Seconds.positive().default(30),
    reportInterval: Seconds.positive().default(10),
    stopProxyOnExit: z.boolean().default(false),
    /** Accept a plain http:// control plane that is not on loopback. */
    insecureHttp: z.boolean().default(false),
    logLevel: LogLevel.default('info'),
    /** The access log is rotated at this size (MiB), this many rotated files kept (docs/logs.md). */
    accessLogMaxSize: z
      .number({ invalid_type_error: 'must be a number of MiB' })
      .finite()
      .positive()
      .default(64),
    accessLogKeep: z
      .number({ invalid_type_error: 'must be a whole number' })
      .int('must be a whole number')
      .min(1)
      .max(100)
      .default(5),
    /**
     * Also send every access-log line to this syslog server (nginx's `access_log
     * syslog:server=…`, UDP; docs/logs.md): HOST[:PORT], [IPv6][:PORT] or unix:/path.
     */
    accessLogSyslog: z
      .string()
      .regex(
        /^(unix:\/[A-Za-z0-9._/-]+|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?|[A-Za-z0-9.-]+(:[0-9]{1,5})?)$/,
        'must be HOST[:PORT], [IPv6][:PORT] or unix:/path',
      )
      .refine(
        (v) => Number(/:([0-9]{1,5})$/.exec(v)?.[1] ?? 514) <= 65535,
        'port must be 1 to 65535',
      )
      .optional(),
  })
  .strict();
export type AgentConfig = z.infer<typeof AgentConfig>;

/** The defaults, for help texts and for callers that build a control plane in process. */
export const CONTROL_PLANE_DEFAULTS = ControlPlaneConfig.parse({});
export const AGENT_DEFAULTS = {
  root: '/var/lib/outpost-agent',
  nginx: '/usr/sbin/nginx',
  caddy: '/usr/bin/caddy',
  wait: 30,
  reportInterval: 10,
  /** The worker user nginx runs as when the agent is root. */
  rootNginxUser: 'www-data',
} as const;

/** Names of each setting on the command line and in the environment, for error messages. */
const FLAGS: Record<string, string> = {
  dataDir: '--data-dir (OUTPOST_DATA_DIR)',
  database: '--database (OUTPOST_DATABASE)',
  listen: '--listen (OUTPOST_LISTEN)',
  publicUrl: '--public-url (OUTPOST_PUBLIC_URL)',
  joinServers: '--join-servers',
  logLevel: '--log-level (OUTPOST_LOG_LEVEL)',
  nginxCheck: '--nginx-check',
  caddyCheck: '--caddy-check',
  probeInterval: '--probe-interval',
  probeTimeout: '--probe-timeout',
  probeSourceAddress: '--probe-source-address',
  nginxCheckTimeout: '--nginx-check-timeout',
  buildTimeout: '--build-timeout',
  applyTimeout: '--apply-timeout',
  geoipDatabase: '--geoip-database',
  geoipAsnDatabase: '--geoip-asn-database',
  alertFireAfter: '--alert-fire-after',
  alertResolveAfter: '--alert-resolve-after',
  alertInterval: '--alert-interval',
  alertCheckInterval: '--alert-check-interval',
  server: '--server (OUTPOST_SERVER)',
  servers: '--server / --control-plane (OUTPOST_SERVER)',
  tokenFile: '--token-file',
  root: '--root',
  nginx: '--nginx',
  caddy: '--caddy',
  pin: '--pin',
  nginxUser: '--nginx-user',
  wait: '--wait',
  reportInterval: '--report-interval',
  stopProxyOnExit: '--stop-proxy-on-exit',
  accessLogMaxSize: '--access-log-max-size',
  accessLogKeep: '--access-log-keep',
  accessLogSyslog: '--access-log-syslog',
  tlsCert: '--tls-cert and --tls-key',
  tlsKey: '--tls-key',
  insecureHttp: '--insecure-http',
  secretKeyFile: '--secret-key-file (OUTPOST_SECRET_KEY_FILE)',
  testHoldStateWriteMs: 'OUTPOST_TEST_HOLD_STATE_WRITE_MS (test only)',
};

function parse<S extends z.ZodTypeAny>(schema: S, input: Record<string, unknown>): z.output<S> {
  const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  const r = schema.safeParse(defined);
  if (r.success) return r.data as z.output<S>;
  throw new ConfigError(
    r.error.issues
      .map((i) => {
        const key = String(i.path[0] ?? '');
        const unknown = i.code === z.ZodIssueCode.unrecognized_keys ? i.keys.join(', ') : '';
        const item = typeof i.path[1] === 'number' ? ` URL ${i.path[1] + 1}` : '';
        return unknown
          ? `unknown setting(s): ${unknown}`
          : `${FLAGS[key] ?? key}${item}: ${i.message}`;
      })
      .join('; '),
  );
}

export type ControlPlaneFlags = Partial<Record<keyof z.input<typeof ControlPlaneConfig>, unknown>>;

/** `outpost serve`'s config: flags, then OUTPOST_* variables, then the defaults. */
export function readControlPlaneConfig(
  flags: ControlPlaneFlags,
  env: Pick<
    Environment,
    | 'dataDir'
    | 'database'
    | 'listen'
    | 'publicUrl'
    | 'logLevel'
    | 'secretKeyFile'
    | 'testHoldStateWriteMs'
  >,
): ControlPlaneConfig {
  return parse(ControlPlaneConfig, {
    ...flags,
    database: flags.database ?? env.database,
    secretKeyFile: flags.secretKeyFile ?? env.secretKeyFile,
    dataDir: flags.dataDir ?? env.dataDir,
    listen: flags.listen ?? env.listen,
    publicUrl: flags.publicUrl ?? env.publicUrl,
    logLevel: flags.logLevel ?? env.logLevel,
    testHoldStateWriteMs: env.testHoldStateWriteMs,
  });
}

/**
 * The agent's flags: `server` (--server, a URL or a comma list) and `controlPlane`
 * (--control-plane, repeatable, each a URL or a comma list) make `servers`.
 */
export type AgentFlags = Partial<
  Record<Exclude<keyof z.input<typeof AgentConfig>, 'servers'> | 'server' | 'controlPlane', unknown>
>;

/** A URL, a comma list of URLs, or a list of either (repeated flags): the URLs in order. */
function urlList(value: unknown): string[] {
  const items = Array.isArray(value) ? (value as unknown[]) : value === undefined ? [] : [value];
  return items.flatMap((v) =>
    String(v)
      .split(',')
      .map((u) => u.trim())
      .filter((u) => u !== ''),
  );
}

/**
 * `outpost agent`'s config: flags, then OUTPOST_SERVER / OUTPOST_LOG_LEVEL, then defaults. The
 * control planes are --server's URLs, then --control-plane's, in order; without either flag
 * OUTPOST_SERVER's (a URL or a comma list).
 */
export function readAgentConfig(
  flags: AgentFlags,
  env: Pick<Environment, 'server' | 'logLevel'>,
  runningAsRoot: boolean,
): AgentConfig {
  const { server, controlPlane, ...rest } = flags;
  const given = [...urlList(server), ...urlList(controlPlane)];
  const servers = given.length > 0 ? given : urlList(env.server);
  const config = parse(AgentConfig, {
    ...rest,
    servers: servers.length > 0 ? servers : undefined,
    logLevel: flags.logLevel ?? env.logLevel,
  });
  if (config.nginxUser === undefined && runningAsRoot) {
    return { ...config, nginxUser: AGENT_DEFAULTS.rootNginxUser };
  }
  return config;
}

/**
 * Which binary checks renderings: `auto` is the one installed at `installed` (none if absent),
 * `off` none, a path that binary (which must exist).
 */
export function checkBinary(
  /** `auto`, `off` or a path. */
  setting: string,
  installed: string,
  flag: string,
): string | undefined {
  if (setting === 'off') return undefined;
  if (setting === 'auto') return existsSync(installed) ? installed : undefined;
  if (!existsSync(setting)) throw new ConfigError(`${flag}: no binary at ${setting}`);
  return setting;
}

/** The PATH a child process (caddy adapt/validate) inherits. */
export function inheritedPath(): string {
  return process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin';
}

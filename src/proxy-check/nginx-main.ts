// The main nginx.conf of an edge: written by the agent into live/ and candidate/, and used by
// `nginx -t` on the control plane. It includes the release through the `release` symlink next
// to it (see the layout in render/nginx.ts).
import { nginxLiteral } from '../render/escape.js';

export interface RenderNginxMainOptions {
  edgeName: string;
  /** Defaults to `auto` (one per CPU). */
  workerProcesses?: number;
  /**
   * Worker user when the master runs as root (nginx's default is `nobody`); the prefix, cache
   * and temp directories must be reachable by it.
   */
  user?: string;
  /**
   * A syslog server (HOST[:PORT], [IPv6][:PORT] or unix:/path; checked by config/) that nginx
   * also sends each access-log line to, tagged `outpost` (docs/logs.md).
   */
  syslog?: string;
}

/**
 * The main nginx.conf the agent writes into live/ and candidate/. It includes the release
 * through the `release` symlink next to it.
 */
export function renderNginxMain(opts: RenderNginxMainOptions): string {
  const lines = [
    `# Outpost edge ${nginxLiteral(opts.edgeName)}: main configuration, written by the agent.`,
    "# Paths: include/ssl files relative to this file's directory; the rest to the prefix.",
    ...(opts.user !== undefined ? [`user ${nginxLiteral(opts.user)};`] : []),
    `worker_processes ${opts.workerProcesses ?? 'auto'};`,
    'pid logs/nginx.pid;',
    'error_log logs/error.log;',
    '# The dynamic modules the release needs (load_module lines; none in older releases).',
    'include release/nginx/main/*.conf;',
    'events {',
    '    worker_connections 4096;',
    '}',
    'http {',
    ...HTTP.map((l) => `    ${l}`),
    ...(opts.syslog !== undefined
      ? [`    access_log syslog:server=${opts.syslog},tag=outpost outpost_json;`]
      : []),
    '    include release/nginx/*.conf;',
    '}',
  ];
  return `${lines.join('\n')}\n`;
}

/** The http block: mime types, temp paths under the prefix, TLS session cache, the JSON log. */
const HTTP = [
  'include /etc/nginx/mime.types;',
  'default_type application/octet-stream;',
  'server_tokens off;',
  'keepalive_timeout 65s;',
  'client_body_temp_path tmp/client_body;',
  'proxy_temp_path tmp/proxy;',
  'fastcgi_temp_path tmp/fastcgi;',
  'uwsgi_temp_path tmp/uwsgi;',
  'scgi_temp_path tmp/scgi;',
  'server_names_hash_bucket_size 256;',
  'server_names_hash_max_size 4096;',
  'variables_hash_bucket_size 128;',
  'variables_hash_max_size 8192;',
  'ssl_protocols TLSv1.2 TLSv1.3;',
  'ssl_session_cache shared:outpost_ssl:10m;',
  'ssl_session_timeout 1d;', // Mozilla intermediate (render/nginx-tls.ts)
  // "denied" when an access rule refused the request (releases `set` it: issue 16), else "";
  // defined here so that a release without access rules still loads with this log format.
  'map "" $outpost_block {',
  '    default "";',
  '}',
  'log_format outpost_json escape=json',
  `    '{"time":"$time_iso8601","site":"$server_name","host":"$host","remote":"$remote_addr",'`,
  `    '"method":"$request_method","uri":"$request_uri","status":$status,'`,
  `    '"bytes":$body_bytes_sent,"cache":"$outpost_cache_status",'`,
  `    '"request_time":$request_time,"upstream_time":"$upstream_response_time","upstream":"$upstream_addr",'`,
  `    '"block":"$outpost_block","limit":"$limit_req_status"}';`,
  // Buffered: an unbuffered line per request cost ~12% of cache-hit throughput (docs/benchmarks.md).
  'access_log logs/access.json outpost_json buffer=64k flush=1s;',
];

// The main nginx.conf of an edge: written by the agent into live/ and candidate/, and used by
// `nginx -t` on the control plane. It includes the release through the `release` symlink next
// to it (see the layout in render/nginx.ts).
import { nginxLiteral } from '../render/escape.js';

/** Indented nginx lines (four spaces a level), as render/nginx.ts writes them. */
class Lines {
  private readonly out: string[] = [];
  private depth = 0;
  line(text: string): this {
    this.out.push(`${'    '.repeat(this.depth)}${text}`);
    return this;
  }
  block(head: string, body: () => void): this {
    this.line(`${head} {`);
    this.depth++;
    body();
    this.depth--;
    return this.line('}');
  }
  toString(): string {
    return `${this.out.join('\n')}\n`;
  }
}

export interface RenderNginxMainOptions {
  edgeName: string;
  /** Defaults to `auto` (one per CPU). */
  workerProcesses?: number;
  /**
   * Worker user when the master runs as root (nginx's default is `nobody`); the prefix, cache
   * and temp directories must be reachable by it.
   */
  user?: string;
}

/**
 * The main nginx.conf the agent writes into live/ and candidate/. It includes the release
 * through the `release` symlink next to it.
 */
export function renderNginxMain(opts: RenderNginxMainOptions): string {
  const c = new Lines();
  c.line(
    `# Outpost edge ${nginxLiteral(opts.edgeName)}: main configuration, written by the agent.`,
  );
  c.line("# Paths: include/ssl files relative to this file's directory; the rest to the prefix.");
  if (opts.user !== undefined) c.line(`user ${nginxLiteral(opts.user)};`);
  c.line(`worker_processes ${opts.workerProcesses ?? 'auto'};`);
  c.line('pid logs/nginx.pid;');
  c.line('error_log logs/error.log;');
  c.block('events', () => c.line('worker_connections 4096;'));
  c.block('http', () => {
    c.line('include /etc/nginx/mime.types;');
    c.line('default_type application/octet-stream;');
    c.line('server_tokens off;');
    c.line('keepalive_timeout 65s;');
    c.line('client_body_temp_path tmp/client_body;');
    c.line('proxy_temp_path tmp/proxy;');
    c.line('fastcgi_temp_path tmp/fastcgi;');
    c.line('uwsgi_temp_path tmp/uwsgi;');
    c.line('scgi_temp_path tmp/scgi;');
    c.line('server_names_hash_bucket_size 256;');
    c.line('server_names_hash_max_size 4096;');
    c.line('variables_hash_bucket_size 128;');
    c.line('variables_hash_max_size 8192;');
    c.line('ssl_protocols TLSv1.2 TLSv1.3;');
    c.line('ssl_session_cache shared:outpost_ssl:10m;');
    c.line('ssl_session_timeout 1h;');
    c.line('log_format outpost_json escape=json');
    c.line(
      `    '{"time":"$time_iso8601","site":"$server_name","host":"$host","remote":"$remote_addr",'`,
    );
    c.line(`    '"method":"$request_method","uri":"$request_uri","status":$status,'`);
    c.line(`    '"bytes":$body_bytes_sent,"cache":"$outpost_cache_status",'`);
    c.line(
      `    '"request_time":$request_time,"upstream_time":"$upstream_response_time","upstream":"$upstream_addr"}';`,
    );
    c.line('access_log logs/access.json outpost_json;');
    c.line('include release/nginx/*.conf;');
  });
  return c.toString();
}

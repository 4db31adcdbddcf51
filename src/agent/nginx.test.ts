import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { missingModules, NginxDriver, withModuleHint } from './nginx.js';

describe('nginx driver', () => {
  it("names the Debian package of a module the release loads and the edge lacks (nginx's own words kept)", () => {
    const missing =
      'nginx: [emerg] dlopen() "/usr/lib/nginx/modules/ngx_http_js_module.so" failed (/usr/lib/nginx/modules/ngx_http_js_module.so: cannot open shared object file: No such file or directory) in /r/candidate/release/nginx/main/modules.conf:2';
    expect(withModuleHint(missing)).toBe(
      `${missing}\nThis release needs the nginx module ngx_http_js_module.so: install it on the edge with: apt-get install libnginx-mod-http-js`,
    );
    expect(withModuleHint('nginx: [emerg] unknown directive "x"')).toBe(
      'nginx: [emerg] unknown directive "x"',
    );
  });

  it('names every module a release loads and the edge lacks, and the CRS, with one apt command', () => {
    const conf = [
      '# Dynamic modules this release needs (Debian packages named beside each). Generated.',
      'load_module "/usr/lib/nginx/modules/ngx_http_js_module.so";  # libnginx-mod-http-js',
      'load_module "/usr/lib/nginx/modules/ngx_http_modsecurity_module.so";  # libnginx-mod-http-modsecurity modsecurity-crs',
      'load_module "/usr/lib/nginx/modules/ngx_http_geoip2_module.so";  # libnginx-mod-http-geoip2',
    ].join('\n');
    const has =
      (...present: string[]) =>
      (p: string) =>
        present.some((x) => p.endsWith(x));
    expect(
      missingModules(
        conf,
        has('js_module.so', 'modsecurity_module.so', 'geoip2_module.so', '/rules'),
      ),
    ).toBeUndefined();
    expect(missingModules(conf, has('js_module.so'))).toBe(
      'This release needs nginx modules this edge lacks: /usr/lib/nginx/modules/ngx_http_modsecurity_module.so, /usr/lib/nginx/modules/ngx_http_geoip2_module.so. Install with: apt-get install libnginx-mod-http-modsecurity modsecurity-crs libnginx-mod-http-geoip2',
    );
    // The module without the rules it runs.
    expect(missingModules(conf, has('.so'))).toBe(
      'This release needs nginx modules this edge lacks: the OWASP CRS (/usr/share/modsecurity-crs/rules). Install with: apt-get install libnginx-mod-http-modsecurity modsecurity-crs',
    );
    expect(missingModules('', () => false)).toBeUndefined();
  });

  it('refuses a candidate release whose modules the edge lacks before running nginx -t', async () => {
    const root = mkdtempSync(join(tmpdir(), 'outpost-modules-'));
    try {
      const release = join(root, 'releases', '7');
      mkdirSync(join(release, 'nginx', 'main'), { recursive: true });
      writeFileSync(
        join(release, 'nginx', 'main', 'modules.conf'),
        'load_module "/nonexistent/modules/ngx_http_modsecurity_module.so";  # libnginx-mod-http-modsecurity modsecurity-crs\n',
      );
      mkdirSync(join(root, 'candidate'));
      symlinkSync(release, join(root, 'candidate', 'release'));
      writeFileSync(join(root, 'candidate', 'nginx.conf'), 'events {}\n');
      // A binary that does not exist: the refusal must come before nginx is run.
      const driver = new NginxDriver('/nonexistent/nginx', root);
      const r = await driver.validate(join(root, 'candidate', 'nginx.conf'));
      expect(r).toEqual({
        ok: false,
        output:
          'This release needs nginx modules this edge lacks: /nonexistent/modules/ngx_http_modsecurity_module.so. Install with: apt-get install libnginx-mod-http-modsecurity modsecurity-crs',
      });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

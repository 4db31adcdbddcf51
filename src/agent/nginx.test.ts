import { describe, expect, it } from 'vitest';
import { withModuleHint } from './nginx.js';

describe('nginx driver', () => {
  it("names the Debian package of a module the release loads and the edge lacks (nginx's own words kept)", () => {
    const missing =
      'nginx: [emerg] dlopen() "/usr/lib/nginx/modules/ngx_http_js_module.so" failed (/usr/lib/nginx/modules/ngx_http_js_module.so: cannot open shared object file: No such file or directory) in /r/candidate/release/nginx/main/modules.conf:2';
    expect(withModuleHint(missing)).toBe(
      `${missing}\nThis release needs the nginx module ngx_http_js_module.so: install the Debian package libnginx-mod-http-js on the edge.`,
    );
    expect(withModuleHint('nginx: [emerg] unknown directive "x"')).toBe(
      'nginx: [emerg] unknown directive "x"',
    );
  });
});

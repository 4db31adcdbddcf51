// The njs module (nginx JavaScript, Debian's libnginx-mod-http-js) every nginx release ships as
// `nginx/njs/outpost.js`: what nginx cannot do by configuration, kept to two small filters.
//
// - `headers` (js_header_filter, once per answer): sends `Age` on answers served from the cache
//   (RFC 9111 §5.1), nginx sends none. The stored Date is the origin's (`proxy_pass_header
//   Date`), so the age is the time since it, or the origin's own stored `Age` when that is
//   larger (a stacked tier). An origin answer nginx took for HTTP/0.9 (non-HTTP bytes: no
//   status line) is marked and turned into a 502 for the access log and HTTP/2 clients.
//   A successful (2xx/3xx) POST, PUT, PATCH or DELETE invalidates the stored answer of its
//   URL (RFC 9111 §4.4), over http and https: the cache file of its default key is removed,
//   as the agent's purge does (nginx takes a missing file for a miss). The main nginx.conf is
//   in live/ or candidate/, so the cache directory is `ngx.conf_prefix + '../' + cacheDir`.
// - `body` (js_body_filter): passes every answer through untouched, except a marked one: its
//   bytes are never relayed. nginx writes no status line for an HTTP/0.9 answer, so for an
//   HTTP/1.x client the filter writes the whole 502 answer in their place.
//
// The text is a constant: renderers stay pure (no file read) and the release carries it.

/** Release path of the module, relative to the release directory. */
export const NJS_PATH = 'nginx/njs/outpost.js';

/** The nginx variable the header filter sets when the origin's answer was not HTTP. */
export const GARBAGE_VARIABLE = 'outpost_not_http';

/**
 * The module's text for a cache in `cacheDir` (relative to the nginx prefix, `levels=1:2`)
 * whose default key is `$scheme$host$request_uri`.
 */
export function njsSource(cacheDir: string): string {
  if (!/^[a-z0-9/_-]+$/.test(cacheDir)) throw new Error(`unexpected cache directory ${cacheDir}`);
  return `// Outpost's njs filters (see src/render/njs/outpost.ts). Generated: do not edit.
var CACHE_DIR = '../${cacheDir}/';
var UNSAFE = { POST: true, PUT: true, PATCH: true, DELETE: true };
var CACHED = { HIT: true, STALE: true, UPDATING: true };
var BAD_GATEWAY = 'the origin did not answer in HTTP\\n';

function invalidate(r) {
    var schemes = ['http', 'https'];
    for (var i = 0; i < schemes.length; i++) {
        var key = schemes[i] + r.variables.host + r.variables.request_uri;
        var md5 = require('crypto').createHash('md5').update(key).digest('hex');
        var file = ngx.conf_prefix + CACHE_DIR + md5.slice(-1) + '/' + md5.slice(-3, -1) + '/' + md5;
        try {
            require('fs').unlinkSync(file);
        } catch (e) {
            // Not stored: nothing to invalidate.
        }
    }
}

function headers(r) {
    if (UNSAFE[r.method] === true && r.status >= 200 && r.status < 400) invalidate(r);
    if (r.httpVersion === '0.9') {
        r.variables.${GARBAGE_VARIABLE} = '1';
        r.status = 502;
        r.headersOut['Content-Type'] = 'text/plain';
        r.headersOut['Content-Length'] = String(BAD_GATEWAY.length);
        return;
    }
    if (CACHED[r.variables.upstream_cache_status] !== true) return;
    var date = Date.parse(r.variables.upstream_http_date || '');
    if (isNaN(date)) return;
    var age = Math.max(0, Math.floor((Date.now() - date) / 1000));
    var stored = parseInt(r.variables.upstream_http_age || '', 10);
    if (stored > age) age = stored;
    r.headersOut['Age'] = String(age);
}

function body(r, data, flags) {
    // Only a marked answer has status 502 and HTTP version 0.9: one number compared per chunk.
    if (r.status !== 502 || r.httpVersion !== '0.9') {
        r.sendBuffer(data, flags);
        return;
    }
    if (r.variables.${GARBAGE_VARIABLE}_sent === '1') return;
    r.variables.${GARBAGE_VARIABLE}_sent = '1';
    var text = BAD_GATEWAY;
    if (/^HTTP\\/1/.test(r.variables.server_protocol || '')) {
        text = 'HTTP/1.1 502 Bad Gateway\\r\\nContent-Type: text/plain\\r\\n' +
            'Content-Length: ' + BAD_GATEWAY.length + '\\r\\nConnection: close\\r\\n' +
            'X-Cache-Status: ' + (r.variables.outpost_cache_status || 'MISS') + '\\r\\n\\r\\n' +
            BAD_GATEWAY;
    }
    r.sendBuffer(text, { last: true });
}

export default { headers, body };
`;
}

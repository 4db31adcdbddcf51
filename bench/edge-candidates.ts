// Hand-edited variants of Outpost's nginx rendering that `bench:edge --candidates` measures beside
// the real one (issue 14: cache hits at >= 1.0x a hand-written cache with the default settings).
// Each takes the files renderNginx wrote for the bench's one default site and returns them edited;
// none is used by the renderer (docs/benchmarks.md has the table and what it decided).
//
//   njs: empty header filter   js_header_filter calling a function that returns at once, no body
//                              filter: what the njs call itself costs (a VM per request)
//   njs: header filter only    the real header filter without the body filter
//   njs: body filter only      the real body filter without the header filter (no Age)
//   lua: Age + 502 + invalidation   the njs filters' behaviour in Lua (Debian's
//                              libnginx-mod-http-lua, LuaJIT, one VM per worker):
//                              header_filter_by_lua_block + body_filter_by_lua_block
//   lua: header filter only    the same without the body filter (what the body filter costs)
//   ..., pcre_jit              the same with `pcre_jit on` (nginx compiles its regexes with PCRE2's JIT)

type Files = { path: string; content: string }[];

const LUA_MODULES = [
  'load_module "/usr/lib/nginx/modules/ndk_http_module.so";  # libnginx-mod-http-ndk',
  'load_module "/usr/lib/nginx/modules/ngx_http_lua_module.so";  # libnginx-mod-http-lua',
];

/**
 * The njs module's behaviour in Lua (src/render/njs/outpost.ts has the reasons): Age from the
 * stored Date (or the stored Age when larger) on cached answers; an origin answer nginx took for
 * HTTP/0.9 becomes a 502 whose bytes replace the origin's; a successful unsafe method removes the
 * cache files of its URL's default keys. `ngx.config.prefix()` is nginx's -p prefix, which
 * proxy_cache_path's relative `cache/outpost` is relative to.
 */
const LUA_INIT = `init_by_lua_block {
    local BAD = "the origin did not answer in HTTP\\n"
    local UNSAFE = { POST = true, PUT = true, PATCH = true, DELETE = true }
    local CACHED = { HIT = true, STALE = true, UPDATING = true }
    local CACHE_DIR = ngx.config.prefix() .. "cache/outpost/"
    local function invalidate()
        local rest = ngx.var.host .. ngx.var.request_uri
        for _, scheme in ipairs({ "http", "https" }) do
            local md5 = ngx.md5(scheme .. rest)
            os.remove(CACHE_DIR .. md5:sub(-1) .. "/" .. md5:sub(-3, -2) .. "/" .. md5)
        end
    end
    local outpost = {}
    function outpost.headers()
        local status = ngx.status
        if UNSAFE[ngx.req.get_method()] and status >= 200 and status < 400 then invalidate() end
        if ngx.req.http_version() == 0.9 then
            ngx.status = 502
            ngx.header["Content-Type"] = "text/plain"
            ngx.header["Content-Length"] = #BAD
            return
        end
        local v = ngx.var
        if not CACHED[v.upstream_cache_status] then return end
        local date = ngx.parse_http_time(v.upstream_http_date or "")
        if not date then return end
        local age = ngx.time() - date
        if age < 0 then age = 0 end
        local stored = tonumber(v.upstream_http_age or "")
        if stored and stored > age then age = math.floor(stored) end
        ngx.header["Age"] = age
    end
    function outpost.body()
        if ngx.status ~= 502 or ngx.req.http_version() ~= 0.9 then return end
        local text = BAD
        if ngx.var.server_protocol:sub(1, 6) == "HTTP/1" then
            text = "HTTP/1.1 502 Bad Gateway\\r\\nContent-Type: text/plain\\r\\n" ..
                "Content-Length: " .. #BAD .. "\\r\\nConnection: close\\r\\n" ..
                "X-Cache-Status: " .. (ngx.var.outpost_cache_status or "MISS") .. "\\r\\n\\r\\n" .. BAD
        end
        ngx.arg[1] = text
        ngx.arg[2] = true
    end
    package.loaded.outpost = outpost
}`;

function edit(files: Files, path: (p: string) => boolean, f: (content: string) => string): Files {
  let found = false;
  const out = files.map((file) => {
    if (!path(file.path)) return file;
    found = true;
    return { ...file, content: f(file.content) };
  });
  if (!found) throw new Error('bench:edge candidates: the rendering has no such file');
  return out;
}

function replaceOnce(content: string, from: string, to: string): string {
  if (!content.includes(from)) throw new Error(`bench:edge candidates: no "${from}" to replace`);
  return content.replace(from, to);
}

const isSite = (p: string) => p.startsWith('nginx/sites/') && p.endsWith('.conf');
const FILTERS =
  'js_header_filter outpost.headers;\n        js_body_filter outpost.body buffer_type=buffer;';

export function njsEmptyHeaderFilter(files: Files): Files {
  const withNoop = edit(
    files,
    (p) => p === 'nginx/njs/outpost.js',
    (c) =>
      replaceOnce(
        c,
        'export default { headers, body };',
        'function noop(r) {}\nexport default { headers, body, noop };',
      ),
  );
  return edit(withNoop, isSite, (c) => replaceOnce(c, FILTERS, 'js_header_filter outpost.noop;'));
}

export function njsHeaderFilterOnly(files: Files): Files {
  return edit(files, isSite, (c) => replaceOnce(c, FILTERS, 'js_header_filter outpost.headers;'));
}

export function njsBodyFilterOnly(files: Files): Files {
  return edit(files, isSite, (c) =>
    replaceOnce(c, FILTERS, 'js_body_filter outpost.body buffer_type=buffer;'),
  );
}

function lua(files: Files, filters: string): Files {
  const modules = edit(
    files,
    (p) => p === 'nginx/main/modules.conf',
    (c) => `${c}${LUA_MODULES.join('\n')}\n`,
  );
  const edge = edit(
    modules,
    (p) => p === 'nginx/edge.conf',
    (c) =>
      replaceOnce(
        c,
        'js_import outpost from "release/nginx/njs/outpost.js";',
        `${LUA_INIT}\njs_import outpost from "release/nginx/njs/outpost.js";`,
      ),
  );
  return edit(edge, isSite, (c) => replaceOnce(c, FILTERS, filters));
}

export function luaFilters(files: Files): Files {
  return lua(
    files,
    'header_filter_by_lua_block { require("outpost").headers() }\n        body_filter_by_lua_block { require("outpost").body() }',
  );
}

export function luaHeaderFilterOnly(files: Files): Files {
  return lua(files, 'header_filter_by_lua_block { require("outpost").headers() }');
}

/** `pcre_jit on` (main context, through the release's nginx/main/ includes): the site's rule `if`s and the maps' regexes compiled to machine code. */
export function withPcreJit(f: (files: Files) => Files = (x) => x): (files: Files) => Files {
  return (files) => [...f(files), { path: 'nginx/main/pcre.conf', content: 'pcre_jit on;\n' }];
}

// Where the rest goes (`--breakdown`, on the site with http_filters: false): what the rendering
// does per request besides the filters, each removed alone, and all together.

const noAccessLog = (c: string) =>
  c.replace(/(\n {4}server_name [^\n]*\n)/, '$1    access_log off;\n');
const noAddHeader = (c: string) => c.replace(/\n {4}add_header [^\n]*/g, '');
const noRules = (c: string) =>
  c.replace(
    /\n {4}set \$outpost_request[\s\S]*?\n {4}add_header/,
    '\n    set $outpost_bypass 0;\n    add_header',
  );

export const breakdown: Record<string, (files: Files) => Files> = {
  'no access log': (f) => edit(f, isSite, noAccessLog),
  'no add_header': (f) => edit(f, isSite, noAddHeader),
  'no rule set/if': (f) => edit(f, isSite, noRules),
  'none of the three': (f) => edit(f, isSite, (c) => noAddHeader(noRules(noAccessLog(c)))),
};

// What the njs header filter's work costs (`--njs-parts`): the filter cut down step by step.
const NJS_PARTS: Record<string, string> = {
  'reads $upstream_cache_status': `function part(r) {
    if (CACHED[r.variables.upstream_cache_status] !== true) return;
}`,
  '+ sets Age': `function part(r) {
    if (CACHED[r.variables.upstream_cache_status] !== true) return;
    r.headersOut['Age'] = '0';
}`,
  '+ Date.parse, stored Age': `function part(r) {
    if (CACHED[r.variables.upstream_cache_status] !== true) return;
    var date = Date.parse(r.variables.upstream_http_date || '');
    if (isNaN(date)) return;
    var age = Math.max(0, Math.floor((Date.now() - date) / 1000));
    var stored = parseInt(r.variables.upstream_http_age || '', 10);
    if (stored > age) age = stored;
    r.headersOut['Age'] = String(age);
}`,
};

export const njsParts: Record<string, (files: Files) => Files> = Object.fromEntries(
  Object.entries(NJS_PARTS).map(([name, fn]) => [
    name,
    (files: Files) =>
      edit(
        edit(
          files,
          (p) => p === 'nginx/njs/outpost.js',
          (c) =>
            replaceOnce(
              c,
              'export default { headers, body };',
              `${fn}\nexport default { headers, body, part };`,
            ),
        ),
        isSite,
        (c) => replaceOnce(c, FILTERS, 'js_header_filter outpost.part;'),
      ),
  ]),
);

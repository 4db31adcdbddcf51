// Value-level rules shared by every shape of the spec. They are the first wall against config
// injection into nginx/Caddy: anything that reaches a renderer has passed one of these.
import { isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';
import { issue, said, sentence, type Said } from './problems.js';

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Explains why `value` is not a DNS hostname (naming it), or returns undefined when it is one. */
export function hostnameProblem(value: string, allowWildcard = false): Said | undefined {
  if (value.length === 0) return said('hostname_empty', { value });
  if (isIPv4(value) || isIPv6(value)) return said('hostname_ip_address', { value });
  if (/[\s;{}"'\\$`]/.test(value)) {
    const bad = /[\s;{}"'\\$`]/.exec(value)?.[0] ?? '';
    return said('hostname_bad_char', { value, char: describeChar(bad) });
  }
  if (value !== value.toLowerCase()) return said('hostname_uppercase', { value });
  if (value.length > 253) return said('hostname_too_long', { value });
  let labels = value.split('.');
  if (allowWildcard && labels[0] === '*') labels = labels.slice(1);
  if (labels.length < 2) return said('hostname_one_label', { value });
  for (const label of labels) {
    if (!LABEL.test(label)) return said('hostname_bad_label', { value, label });
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? ''))
    return said('hostname_numeric_tld', { value });
  return undefined;
}

export function describeChar(c: string): string {
  switch (c) {
    case ' ':
      return 'a space';
    case '\n':
      return 'a newline';
    case '\r':
      return 'a carriage return';
    case '\t':
      return 'a tab';
    default:
      return c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f
        ? `a control character (0x${c.charCodeAt(0).toString(16).padStart(2, '0')})`
        : `"${c}"`;
  }
}

export const Hostname = z.string().superRefine((v, ctx) => {
  const problem = hostnameProblem(v);
  if (problem) ctx.addIssue(issue(problem));
});

/** A site's domain or alias: a hostname, or a wildcard `*.example.com`. */
export const DomainName = z.string().superRefine((v, ctx) => {
  const problem = hostnameProblem(v, true);
  if (problem) ctx.addIssue(issue(problem));
});

export const IPv4 = z.string().refine(
  (v) => isIPv4(v),
  (v) => issue(said('not_ipv4', { value: v })),
);
export const IPv6 = z.string().refine(
  // Node accepts a zone id (fe80::1%eth0); nginx's listen and proxy_pass do not, and a zone
  // names an interface of one machine, which a spec for many edges cannot know.
  (v) => isIPv6(v) && !v.includes('%'),
  (v) => issue(said(v.includes('%') ? 'ipv6_zone_id' : 'not_ipv6', { value: v })),
);

/** An address or network in CIDR notation: `10.0.0.0/8`, `2001:db8::/32`, `192.0.2.7`. */
export const Cidr = z.string().superRefine((v, ctx) => {
  const [address = '', bits, ...rest] = v.split('/');
  const max = isIPv4(address) ? 32 : isIPv6(address) ? 128 : 0;
  const ok =
    max > 0 &&
    rest.length === 0 &&
    (bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= max));
  if (!ok) ctx.addIssue(issue(said('not_cidr', { value: v })));
});

/** Names of edges, tags and modifiers: they end up in file names and headers. */
export const Name = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, sentence('name_format'));

/**
 * A secret is never written inline: `env:NAME` reads an environment variable of the control
 * plane, `file:/path` reads a file. This keeps outpost.yaml safe to commit.
 */
export const SecretRef = z
  .string()
  .regex(/^(env:[A-Za-z_][A-Za-z0-9_]*|file:\/[^\0\n\r]+)$/, sentence('secret_ref_format'));

/**
 * A URL path glob such as `/static/*`; `*` matches any characters including `/`. Globs are
 * matched against the decoded path, so a percent-encoded control character (`%0a`, `%00`,
 * `%7f`) is refused like a raw one: no config language can carry it and no path holds it.
 */
export const PathGlob = z
  .string()
  .regex(/^\/[A-Za-z0-9._~!*'()@:+,=/%-]*$/, sentence('path_glob_format'))
  .superRefine((v, ctx) => {
    const bad = /%(?:[01][0-9A-Fa-f]|7[Ff])/.exec(v)?.[0];
    if (bad !== undefined)
      ctx.addIssue(
        issue(
          said('path_glob_encoded_control', {
            encoded: bad,
            char: describeChar(String.fromCharCode(parseInt(bad.slice(1), 16))),
          }),
        ),
      );
  });

export const Extension = z.string().regex(/^[a-z0-9]{1,16}$/, sentence('extension_format'));

export const HttpMethod = z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** A header name as in RFC 9110 tokens, restricted to the common safe subset. */
export const HeaderName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/, sentence('header_name_format'));

/**
 * Response headers a `set_header` modifier must not touch: message framing and hop-by-hop
 * fields (a second Content-Length or Transfer-Encoding desyncs clients and shared caches),
 * Host, and Outpost's own `X-Outpost-*` headers (the agent probes them).
 */
export const FRAMING_HEADERS = [
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'upgrade',
  'te',
  'trailer',
  'host',
] as const;

/** A header name a modifier may set: a HeaderName outside FRAMING_HEADERS and `X-Outpost-*`. */
export const SettableHeaderName = HeaderName.superRefine((v, ctx) => {
  const lower = v.toLowerCase();
  if ((FRAMING_HEADERS as readonly string[]).includes(lower))
    ctx.addIssue(issue(said('header_framing', { value: v })));
  else if (lower.startsWith('x-outpost-'))
    ctx.addIssue(issue(said('header_outpost', { value: v })));
});

/** A header value: printable text, without the characters a config language could interpret. */
export const HeaderValue = z
  .string()
  .max(1024)
  .superRefine((v, ctx) => {
    const bad = /[\0-\x1f\x7f"\\$`{}]/.exec(v)?.[0];
    if (bad !== undefined)
      ctx.addIssue(issue(said('header_value_bad_char', { char: describeChar(bad) })));
  });

/** A redirect target such as `https://static.example.com{uri}`; placeholders are listed. */
export const TEMPLATE_PLACEHOLDERS = ['uri', 'path', 'args', 'host', 'scheme'] as const;
export const UrlTemplate = z.string().superRefine((v, ctx) => {
  const bad = /[\0-\x20\x7f"'\\$`;]/.exec(v)?.[0];
  if (bad !== undefined) {
    ctx.addIssue(issue(said('bad_char', { char: describeChar(bad) })));
    return;
  }
  for (const m of v.matchAll(/\{([^}]*)\}?/g)) {
    const name = m[1] ?? '';
    if (!m[0].endsWith('}') || !(TEMPLATE_PLACEHOLDERS as readonly string[]).includes(name)) {
      ctx.addIssue(
        issue(
          said('url_template_placeholder', {
            placeholder: m[0],
            options: TEMPLATE_PLACEHOLDERS.map((p) => `{${p}}`).join(', '),
          }),
        ),
      );
      return;
    }
  }
  if (v.replace(/\{[a-z]+\}/g, '').includes('}')) {
    ctx.addIssue(issue(said('url_template_unmatched_brace')));
    return;
  }
  if (!/^(https?:\/\/|\/|\{scheme\}:\/\/)/.test(v)) ctx.addIssue(issue(said('url_template_start')));
});

export const HttpUrl = z.string().superRefine((v, ctx) => {
  const bad = /[\0-\x20\x7f"'\\$`;{}]/.exec(v)?.[0];
  if (bad !== undefined) {
    ctx.addIssue(issue(said('bad_char', { char: describeChar(bad) })));
    return;
  }
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    ctx.addIssue(issue(said('not_url', { value: v })));
    return;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    ctx.addIssue(issue(said('http_url_scheme')));
});

export const Port = z.number().int().min(1).max(65535);

/** One or more PEM certificates (a CA bundle): base64 blocks between BEGIN/END lines. */
export const PemCertificates = z
  .string()
  .max(65_536)
  .regex(
    /^\s*(?:-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\s*)+$/,
    sentence('pem_certificates'),
  );

/** A query parameter name (cache keys, matchers): letters, digits and "_" (an nginx `$arg_NAME`). */
export const QueryParamName = z
  .string()
  .regex(/^[A-Za-z0-9_]{1,64}$/, sentence('query_param_name_format'));

// The WAF of a site on an nginx edge: the OWASP Core Rule Set (Debian's modsecurity-crs 3.3)
// on ModSecurity v3 (libnginx-mod-http-modsecurity). Pure: a site's PlannedWaf in, server-level
// directives out. What each part does and why: docs/waf.md.
//
// - The ModSecurity configuration is written inline (`modsecurity_rules`, one directive per
//   line) in the site's server block, not as a rules file of the release: the module opens a
//   `modsecurity_rules_file` relative to nginx's working directory, not to the prefix or the
//   including file (measured with nginx 1.22 and ModSecurity-nginx 1.0.3), and a release does
//   not know its absolute path. The CRS rules are included from their Debian path.
// - Outpost writes the CRS setup itself (default actions, paranoia, anomaly thresholds, the
//   setup version CRS checks for); /etc/modsecurity/crs/crs-setup.conf is the machine's and is
//   not read.
// - ModSecurity logs every rule match through nginx's error log at level info, with the rule
//   id, the transaction's unique_id (here `$request_id`) and the server (the site's domain):
//   each WAF'd server logs at info to WAF_LOG_PATH, which the agent reads and counts.
import type { PlannedWaf } from '../compile/index.js';
import { HttpMethod } from '../spec/index.js';
import { CRS_RULES_DIR, WAF_LOG_PATH } from '../bundle/layout.js';
import type { Conf } from './nginx-conf.js';
import { globToRegex, nginxLiteral, RenderError } from './escape.js';

/** The CRS setup version CRS 3.3 checks for (rule 901001 refuses to run without one). */
export const CRS_SETUP_VERSION = 334;
/** Methods CRS lets through (rule 911100): every method a matcher can name. */
export const WAF_ALLOWED_METHODS = HttpMethod.options;
/** First id of the local rules Outpost writes (ModSecurity keeps 1-99,999 for local use). */
export const LOCAL_RULE_ID = 10_000;

/** The ModSecurity directives of a site, one per line, in order (see the file comment). */
export function wafDirectives(waf: PlannedWaf): string[] {
  const engine = waf.mode === 'block' ? 'On' : 'DetectionOnly';
  const out = [
    `SecRuleEngine ${engine}`,
    'SecRequestBodyAccess On',
    `SecRequestBodyLimit ${waf.requestBodyLimit}`,
    `SecRequestBodyNoFilesLimit ${waf.requestBodyLimit}`,
    // A longer body is inspected up to the limit and passed on (nginx's own limits still apply).
    'SecRequestBodyLimitAction ProcessPartial',
    // Response bodies are not buffered for inspection: the outbound threshold applies to the
    // response rules that read headers and status (docs/waf.md).
    'SecResponseBodyAccess Off',
    'SecAuditEngine Off',
    // Body processors for JSON and XML (ModSecurity's recommended configuration, ids 200000-1).
    `SecRule REQUEST_HEADERS:Content-Type "@rx ^(?:application(?:/soap\\+|/)|text/)xml" "id:${LOCAL_RULE_ID},phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"`,
    `SecRule REQUEST_HEADERS:Content-Type "@rx ^application/json" "id:${LOCAL_RULE_ID + 1},phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"`,
    // A body ModSecurity could not parse is not inspected: refuse it in block mode.
    `SecRule REQBODY_ERROR "!@eq 0" "id:${LOCAL_RULE_ID + 2},phase:2,t:none,log,deny,status:400,msg:'Failed to parse request body'"`,
    // CRS in anomaly scoring mode (crs-setup.conf.example 3.3): rules add to a score, 949110
    // and 959100 block once it reaches the thresholds.
    'SecDefaultAction "phase:1,log,auditlog,pass"',
    'SecDefaultAction "phase:2,log,auditlog,pass"',
    `SecAction "id:900000,phase:1,nolog,pass,t:none,setvar:tx.paranoia_level=${waf.paranoia}"`,
    `SecAction "id:900110,phase:1,nolog,pass,t:none,setvar:tx.inbound_anomaly_score_threshold=${waf.inboundThreshold},setvar:tx.outbound_anomaly_score_threshold=${waf.outboundThreshold}"`,
    // The methods a site's origin may be sent (the spec's HttpMethod list): CRS 3.3 allows
    // only GET HEAD POST OPTIONS by default (911100), which would block every REST API's PUT.
    `SecAction "id:900200,phase:1,nolog,pass,t:none,setvar:'tx.allowed_methods=${WAF_ALLOWED_METHODS.join(' ')}'"`,
    `SecAction "id:900990,phase:1,nolog,pass,t:none,setvar:tx.crs_setup_version=${CRS_SETUP_VERSION}"`,
  ];
  waf.pathExclusions.forEach((e, i) => {
    const regex = `^(?:${e.paths.map(globToRegex).join('|')})$`;
    if (/["\s\\]$/.test(regex) || regex.includes('"'))
      throw new RenderError('a WAF exclusion path cannot be written in a ModSecurity rule');
    const ctl = e.ids.map((id) => `ctl:ruleRemoveById=${id}`).join(',');
    out.push(
      `SecRule REQUEST_FILENAME "@rx ${regex}" "id:${LOCAL_RULE_ID + 10 + i},phase:1,t:none,t:urlDecodeUni,pass,nolog,${ctl}"`,
    );
  });
  out.push(`Include ${CRS_RULES_DIR}/*.conf`);
  if (waf.removedIds.length > 0) out.push(`SecRuleRemoveById ${waf.removedIds.join(' ')}`);
  return out;
}

/** The server-level directives that turn the WAF on for a site's server block. */
export function renderSiteWaf(c: Conf, waf: PlannedWaf): void {
  const excluded = [
    ...waf.removedIds.map(String),
    ...waf.pathExclusions.map((e) => `${e.ids.join(' ')} on ${e.paths.join(' ')}`),
  ];
  c.line(
    `# WAF: OWASP CRS on ModSecurity, ${waf.mode} mode, paranoia ${waf.paranoia}, anomaly threshold ${waf.inboundThreshold}/${waf.outboundThreshold}${excluded.length > 0 ? `, excluded: ${excluded.join('; ')}` : ''}.`,
  );
  c.line('modsecurity on;');
  c.line('modsecurity_transaction_id "$request_id";');
  c.line('# Rule matches (ids, unique_id = $request_id) for the agent; errors also in error.log.');
  c.line('error_log logs/error.log;');
  c.line(`error_log ${nginxLiteral(WAF_LOG_PATH)} info;`);
  for (const d of wafDirectives(waf)) c.line(`modsecurity_rules ${nginxLiteral(d)};`);
}

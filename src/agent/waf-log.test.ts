import { mkdtempSync, appendFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TrafficReport } from '../spec/index.js';
import { countWafLine, WafLogCounter } from './waf-log.js';

// Lines as ModSecurity-nginx 1.0.3 writes them through nginx's error log (shortened).
const warn = (id: string, server: string) =>
  `2026/12/01 12:15:24 [info] 1464#1464: *4 ModSecurity: Warning. detected SQLi using libinjection. [file "/usr/share/modsecurity-crs/rules/REQUEST-942-APPLICATION-ATTACK-SQLI.conf"] [line "46"] [id "${id}"] [rev ""] [msg "SQL Injection Attack Detected via libinjection"] [hostname "127.0.0.1"] [uri "/"] [unique_id "abc"] [ref "v9,12"], client: 127.0.0.1, server: ${server}, request: "GET /?id=1 HTTP/1.1", host: "${server}"`;
const denied = (server: string) =>
  `2026/12/01 12:15:24 [error] 1464#1464: *4 [client 127.0.0.1] ModSecurity: Access denied with code 403 (phase 2). Matched "Operator \`Ge' with parameter \`5' against variable \`TX:ANOMALY_SCORE' (Value: \`8' ) [file "/usr/share/modsecurity-crs/rules/REQUEST-949-BLOCKING-EVALUATION.conf"] [line "81"] [id "949110"] [msg "Inbound Anomaly Score Exceeded (Total Score: 8)"] [uri "/"] [unique_id "abc"] [ref ""], client: 127.0.0.1, server: ${server}, request: "GET /?id=1 HTTP/1.1", host: "${server}"`;
const detected = (server: string) => warn('949110', server).replace('detected SQLi', 'Matched');

describe('WAF log counts', () => {
  it('counts blocks, detections and rule matches per site; other lines are not ours', () => {
    const into = {};
    expect(countWafLine(into, warn('942100', 'a.test'))).toBe(true);
    expect(countWafLine(into, denied('a.test'))).toBe(true);
    expect(countWafLine(into, warn('942100', 'b.test'))).toBe(true);
    expect(countWafLine(into, detected('b.test'))).toBe(true);
    expect(
      countWafLine(into, '2026/12/01 [info] 1#1: *3 client 127.0.0.1 closed keepalive connection'),
    ).toBe(false);
    expect(into).toEqual({
      'a.test': { blocked: 1, detected: 0, rules: { '942100': 1 } },
      'b.test': { blocked: 0, detected: 1, rules: { '942100': 1 } },
    });
  });

  it('tails the file, adds the counts to a report and forgets them once accepted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outpost-waf-log-'));
    try {
      const path = join(dir, 'waf.log');
      appendFileSync(path, `${warn('942100', 'old.test')}\n`);
      const c = new WafLogCounter(path);
      await c.skipExisting();
      appendFileSync(
        path,
        `${warn('942100', 'a.test')}\n${denied('a.test')}\n${denied('a.test').slice(0, 40)}`,
      );
      await c.read();
      const report: TrafficReport = {
        since: 's',
        until: 'u',
        sites: { 'a.test': { requests: 2, bytes: 10, status: { '4xx': 2 }, cache: {} } },
      };
      c.addTo(report);
      expect(report.sites['a.test']?.waf).toEqual({
        blocked: 1,
        detected: 0,
        rules: { '942100': 1 },
      });
      expect(report.sites['old.test']).toBeUndefined();
      c.acknowledge(report);
      // The partial line completes: counted in the next report only.
      appendFileSync(path, `${denied('a.test').slice(40)}\n`);
      await c.read();
      const next: TrafficReport = { since: 'u', until: 'v', sites: {} };
      c.addTo(next);
      expect(next.sites['a.test']?.waf).toEqual({ blocked: 1, detected: 0, rules: {} });
      expect(next.sites['a.test']?.requests).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

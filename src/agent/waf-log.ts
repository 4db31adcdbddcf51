// WAF counts from the edge's WAF log (bundle/layout.ts WAF_LOG_PATH): ModSecurity writes every
// rule match there through nginx's error log, one line each, naming the rule id and the server
// (the site's domain; render/nginx-waf.ts). The agent tails and rotates it like the access log
// (log-tail.ts) and sends, per site, how many requests the WAF blocked (block mode: "Access
// denied"), how many went over the threshold and were let through (detect mode: the scoring
// rule's "Warning"), and how often each rule matched. Nothing is sampled; counts wait for the control plane like the traffic.
import type { SiteWafCounts, TrafficReport } from '../spec/index.js';
import { LogTail, type LogRotation } from './log-tail.js';

/** CRS's scoring rules: the inbound and outbound verdicts, and the correlation summary. */
const SCORING_RULES = new Set(['949110', '959100', '980130']);

function empty(): SiteWafCounts {
  return { blocked: 0, detected: 0, rules: {} };
}

/** Adds one WAF log line to the counts; false for a line that is not a ModSecurity message. */
export function countWafLine(into: Record<string, SiteWafCounts>, line: string): boolean {
  const at = line.indexOf('ModSecurity: ');
  if (at < 0) return false;
  const id = /\[id "(\d{1,8})"\]/.exec(line)?.[1];
  const site = /, server: ([^,\s]*),/.exec(line)?.[1] || '(unknown host)';
  const c = (into[site] ??= empty());
  if (line.startsWith('ModSecurity: Access denied', at)) c.blocked += 1;
  else if (id === '949110' || id === '959100') c.detected += 1;
  if (id !== undefined && !SCORING_RULES.has(id)) c.rules[id] = (c.rules[id] ?? 0) + 1;
  return true;
}

/**
 * Counts the WAF log's lines as a LogTail (log-tail.ts) hands them over: the same bounded
 * reads and the same rotation as the access log, so a flood of matches neither grows the file
 * without bound nor the agent's memory.
 */
export class WafLogCounter {
  private pending: Record<string, SiteWafCounts> = {};
  private readonly tail: LogTail;

  constructor(readonly path: string) {
    this.tail = new LogTail(path, (line) => countWafLine(this.pending, line));
  }

  skipExisting(): Promise<void> {
    return this.tail.skipExisting();
  }

  read(): Promise<void> {
    return this.tail.read();
  }

  /** Rotates the log at its size limit (LogTail.rotate); call after `read()`. */
  rotate(r: LogRotation): Promise<boolean> {
    return this.tail.rotate(r);
  }

  /** Puts the unsent counts into a traffic report's sites (a site without requests included). */
  addTo(report: TrafficReport): void {
    for (const [site, w] of Object.entries(this.pending)) {
      if (w.blocked === 0 && w.detected === 0 && Object.keys(w.rules).length === 0) continue;
      const t = (report.sites[site] ??= { requests: 0, bytes: 0, status: {}, cache: {} });
      t.waf = structuredClone(w);
    }
  }

  /** The control plane accepted `report`: forget the counts it carried. */
  acknowledge(report: TrafficReport): void {
    for (const [site, t] of Object.entries(report.sites)) {
      const p = this.pending[site];
      if (p === undefined || t.waf === undefined) continue;
      p.blocked -= t.waf.blocked;
      p.detected -= t.waf.detected;
      for (const [id, n] of Object.entries(t.waf.rules)) {
        const left = (p.rules[id] ?? 0) - n;
        if (left <= 0) delete p.rules[id];
        else p.rules[id] = left;
      }
      if (p.blocked === 0 && p.detected === 0 && Object.keys(p.rules).length === 0)
        delete this.pending[site];
    }
  }
}

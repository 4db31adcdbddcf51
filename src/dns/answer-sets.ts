// Answer sets for providers that serve plain records (Cloudflare, DNSPod, Alibaba Cloud DNS):
// they make no health checks of their own that Outpost drives, so the control plane checks
// the edges (edge-checks.ts) and publishes only the healthy ones. Pure.
//
// Without lines (Cloudflare) a set is one list of addresses: the healthy edges, else the
// origins, never empty. With ISP lines ("线路", DNSPod and Alibaba) each edge goes on the lines
// of the network presets whose ASNs its `asn` meta lists (NETWORK_LINES), on the overseas line
// when it lists a country other than CN, otherwise on the default line. The default line
// always answers: when no healthy edge is on it, it gets every healthy edge, and when no edge
// is healthy at all, the origins. A line left without a healthy edge is not published, so the
// provider answers its clients from the default line (both providers fall back to it).
import { NETWORK_LINES } from './network-lines.js';
import type { RRsetPlan, RecordMeta } from './plan.js';

/** A provider's names for the lines Outpost uses. */
export interface LineVocabulary {
  /** The line every client falls back to: DNSPod 默认, Alibaba default. */
  readonly default: string;
  /** Clients outside mainland China: DNSPod 境外, Alibaba oversea. */
  readonly oversea: string;
  /** Which field of a NETWORK_LINES preset names the line here. */
  readonly preset: 'dnspod' | 'alidns';
}

/** One record as such a provider holds it: a line ('' without lines) and one address. */
export interface LineRecord {
  line: string;
  value: string;
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The lines an edge's meta puts it on (never empty: the default line when nothing else). */
export function edgeLines(meta: RecordMeta, vocab: LineVocabulary): string[] {
  const lines = new Set<string>();
  for (const preset of Object.values(NETWORK_LINES))
    if (meta.asn?.some((a) => preset.asns.includes(a))) lines.add(preset[vocab.preset]);
  if (meta.countries?.some((c) => c.toUpperCase() !== 'CN')) lines.add(vocab.oversea);
  if (lines.size === 0) lines.add(vocab.default);
  return [...lines].sort(byString);
}

/**
 * The records of a planned set for a provider without Outpost-driven health checks. Disabled
 * records (drained edges, and edges the control plane's checks found down) are left out.
 */
export function answerRecords(rrset: RRsetPlan, vocab?: LineVocabulary): LineRecord[] {
  const edges = rrset.records.filter((r) => r.enabled && r.meta.backup !== true);
  const origins = rrset.records.filter((r) => r.meta.backup === true);
  const fallback = (): string[] => {
    const healthy = edges.flatMap((r) => r.content);
    if (healthy.length > 0) return healthy;
    const o = origins.flatMap((r) => r.content);
    // fail open: nothing healthy and no origin address, so every edge rather than nothing
    return o.length > 0 ? o : rrset.records.flatMap((r) => r.content);
  };
  const byLine = new Map<string, Set<string>>();
  const add = (line: string, values: readonly string[]) => {
    const set = byLine.get(line) ?? new Set<string>();
    for (const v of values) set.add(v);
    byLine.set(line, set);
  };
  if (vocab === undefined) add('', fallback());
  else {
    for (const r of edges) for (const line of edgeLines(r.meta, vocab)) add(line, r.content);
    if (!byLine.has(vocab.default)) add(vocab.default, fallback());
  }
  const out: LineRecord[] = [];
  for (const [line, values] of byLine) for (const value of values) out.push({ line, value });
  return out.sort((a, b) => byString(a.line, b.line) || byString(a.value, b.value));
}

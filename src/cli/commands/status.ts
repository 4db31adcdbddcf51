// `outpost status`: each edge's state, applied vs desired release, last report, requests the
// WAF blocked, error.
import type { EdgeStatus } from '../../spec/index.js';
import { table } from '../output.js';
import type { Command } from 'commander';
import type { CommandContext } from './context.js';

export function registerStatusCommand(program: Command, ctx: CommandContext): void {
  program
    .command('status')
    .description('each edge: state, applied vs desired release, last report, error')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const status = await ctx.client().request<{
        revision: number;
        edges: (EdgeStatus & {
          traffic?: { denied?: number; rate_limited?: number; waf_blocked?: number };
        })[];
        alerts?: { kind: string; subject: string; message: string }[];
      }>('GET', 'v1/status');
      if (o.json) return ctx.out.json(status);
      ctx.out.line(`Desired state: revision ${status.revision}`);
      for (const a of status.alerts ?? [])
        ctx.out.line(`ALERT ${a.kind} ${a.subject}: ${a.message}`);
      if (status.edges.length === 0) return ctx.out.line('No edges.');
      ctx.out.line(
        table([
          ['EDGE', 'STATE', 'RELEASE', 'LAST SEEN', 'ERROR'],
          ...status.edges.map((e) => [
            e.name + (e.paused ? ' (paused)' : ''),
            e.state,
            `${e.applied_release ?? '-'}/${e.desired_release ?? '-'}`,
            e.age_seconds === null ? 'never' : `${e.age_seconds}s ago`,
            e.error ?? '-',
          ]),
        ]),
      );
      // Requests the edge refused itself (issue 16), since the control plane started: a line
      // of its own, so the table keeps its columns (scripts read ERROR as the last one).
      for (const e of status.edges) {
        const denied = e.traffic?.denied ?? 0;
        const limited = e.traffic?.rate_limited ?? 0;
        const waf = e.traffic?.waf_blocked ?? 0;
        if (denied > 0 || limited > 0 || waf > 0)
          ctx.out.line(
            `REFUSED ${e.name}: ${denied} denied by access rules, ${limited} rate-limited, ${waf} blocked by the WAF`,
          );
      }
      // Which control plane each edge's agent talks to (it may have several URLs and fail over
      // between them: docs/high-availability.md), a line each like REFUSED.
      for (const e of status.edges)
        if (e.control_plane) ctx.out.line(`CONTROL PLANE ${e.name}: ${e.control_plane}`);
      // Not errors, but worth saying: e.g. a Caddy edge that proxies without caching.
      for (const e of status.edges) if (e.note) ctx.out.line(`NOTE ${e.name}: ${e.note}`);
    });
}

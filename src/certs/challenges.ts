// The two ways Outpost answers ACME challenges.
//
// HTTP-01: every edge proxies `/.well-known/acme-challenge/` of its sites to the control plane
// (rendered into nginx by the bundle builder), which answers from the store. So an answer is
// live on every edge the moment it is stored, whichever edge the CA reaches; the solver only
// waits until the edges of the site run a release that serves the site at all.
//
// DNS-01: the TXT record `_acme-challenge.<name>` through the spec's DNS provider, checked on
// each authoritative server before the CA is asked to look.
import { Resolver } from 'node:dns/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DnsProvider } from '../dns/index.js';
import type { Store } from '../store/types.js';
import type { ChallengeSolver, ChallengeTask } from './acme.js';

/** How long a stored HTTP-01 answer stays servable. */
const HTTP01_TTL_MS = 3_600_000;

export class Http01Solver implements ChallengeSolver {
  readonly type = 'http-01';

  constructor(
    private readonly store: Store,
    private readonly now: () => Date,
    /** Resolves when the edges serving `domain` run a release that includes the site. */
    private readonly edgesReady: (domain: string) => Promise<void> = async () => undefined,
  ) {}

  async present(task: ChallengeTask): Promise<void> {
    await this.store.putAcmeChallenge({
      token: task.token,
      domain: task.domain,
      key_authorization: task.answer,
      expires_at: new Date(this.now().getTime() + HTTP01_TTL_MS).toISOString(),
    });
  }

  async waitUntilVisible(tasks: readonly ChallengeTask[]): Promise<void> {
    const domains = new Set(tasks.map((t) => t.domain));
    for (const d of domains) await this.edgesReady(d);
  }

  async cleanup(task: ChallengeTask): Promise<void> {
    await this.store.deleteAcmeChallenge(task.token, this.now());
  }
}

/** The TXT record name of a DNS-01 challenge for `identifier` (wildcards share the base). */
export function dns01Name(identifier: string): string {
  return `_acme-challenge.${identifier.replace(/^\*\./, '')}`;
}

export interface Dns01Options {
  /** How long to wait for every authoritative server to show the record. */
  timeoutMs?: number;
  intervalMs?: number;
}

export class DnsPropagationError extends Error {
  readonly code = 'dns_propagation';
}

export class Dns01Solver implements ChallengeSolver {
  readonly type = 'dns-01';

  constructor(
    private readonly provider: DnsProvider,
    private readonly opts: Dns01Options = {},
  ) {}

  async present(task: ChallengeTask): Promise<void> {
    await this.provider.setTxt(dns01Name(task.identifier), task.answer);
  }

  async waitUntilVisible(tasks: readonly ChallengeTask[]): Promise<void> {
    const timeoutMs = this.opts.timeoutMs ?? 120_000;
    const intervalMs = this.opts.intervalMs ?? 1000;
    for (const task of tasks) {
      const fqdn = dns01Name(task.identifier);
      const value = task.answer;
      const servers = await this.provider.authoritativeServers(fqdn);
      if (servers.length === 0) {
        // Nothing to check against: give the provider's own propagation a moment.
        await sleep(Math.min(timeoutMs, 10_000));
        continue;
      }
      const deadline = Date.now() + timeoutMs;
      for (const server of servers) {
        const resolver = new Resolver({ timeout: 2000, tries: 1 });
        resolver.setServers([server]);
        for (;;) {
          if (await hasTxt(resolver, fqdn, value)) break;
          if (Date.now() > deadline)
            throw new DnsPropagationError(
              `the TXT record ${fqdn} did not appear on the authoritative server ${server} within ${Math.round(timeoutMs / 1000)} s`,
            );
          await sleep(intervalMs);
        }
      }
    }
  }

  async cleanup(task: ChallengeTask): Promise<void> {
    await this.provider.removeTxt(dns01Name(task.identifier), task.answer);
  }
}

async function hasTxt(resolver: Resolver, fqdn: string, value: string): Promise<boolean> {
  try {
    const records = await resolver.resolveTxt(fqdn);
    return records.some((chunks) => chunks.join('') === value);
  } catch {
    return false;
  }
}

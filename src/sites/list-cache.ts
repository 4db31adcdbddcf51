// GET /v1/sites answered from text made once per state: at 10,000 sites the list is ~5 MB of
// JSON, and serializing it per request (what Fastify did with the handler's object) cost tens
// of milliseconds of the request thread each time, while 1,000 agents wait behind it.
//
// Decisions:
// - The key is the state the store hands out for its revision (`readSharedState`: one frozen
//   object per revision, re-read when the store's revision row says another control plane
//   wrote), never a local counter of our own writes: a change made elsewhere is a new revision
//   read from the store, so a new body. A new object at the same revision (a new order alone
//   keeps the revision) is a new body too: the cache compares the sites array itself.
// - Each site's JSON is kept by the site object (a WeakMap over the frozen entries the store
//   keeps from one revision to the next), so a one-site change serializes one site, and a page
//   is a join of the sites it holds, never a new stringify of the list.
// - The validator is `"<revision>-<hash of the body>"` (http/etag.ts). A page carries the
//   list's validator: it is a function of the list and its URL.
import { revisionTag } from '../http/etag.js';
import type { Site, Spec } from '../spec/index.js';

/** One page of the list: sites after the domain `after` (all from the start when undefined). */
export interface SitePageQuery {
  limit: number | undefined;
  after: string | undefined;
}

/** The list as answered at one revision. */
export interface SiteListText {
  revision: number;
  /** `"<revision>-<hash>"`, for ETag / If-None-Match. */
  etag: string;
  /** The whole answer, `{"revision":…,"sites":[…],"next":null}`. */
  body: string;
  /** The answer for one page; undefined when `after` is not a site of this list. */
  page(query: SitePageQuery): string | undefined;
}

interface Entry extends SiteListText {
  sites: readonly Site[];
}

export class SiteListCache {
  private entry: Entry | undefined;
  private readonly json = new WeakMap<Site, string>();
  /** How many times a whole body was made, and sites serialized (tests count them). */
  builds = 0;
  sitesSerialized = 0;

  /** The list for the state `read` returned (the state's object is the key). */
  of(state: { spec: Spec; revision: number }): SiteListText {
    const { spec, revision } = state;
    const cached = this.entry;
    if (cached !== undefined && cached.revision === revision && cached.sites === spec.sites)
      return cached;
    const entry = this.build(spec.sites, revision);
    this.entry = entry;
    return entry;
  }

  private siteJson(site: Site): string {
    const known = this.json.get(site);
    if (known !== undefined) return known;
    const text = JSON.stringify(site);
    this.sitesSerialized++;
    // Only a frozen site can be trusted to stay what its text says.
    if (Object.isFrozen(site)) this.json.set(site, text);
    return text;
  }

  private build(sites: readonly Site[], revision: number): Entry {
    this.builds++;
    const parts = sites.map((s) => this.siteJson(s));
    const index = new Map(sites.map((s, i) => [s.domain, i]));
    const answer = (from: number, to: number) => {
      const next = to < sites.length ? (sites[to - 1]?.domain ?? null) : null;
      return `{"revision":${revision},"sites":[${parts.slice(from, to).join(',')}],"next":${JSON.stringify(next)}}`;
    };
    const body = answer(0, sites.length);
    return {
      sites,
      revision,
      etag: revisionTag(revision, body),
      body,
      page: ({ limit, after }) => {
        let from = 0;
        if (after !== undefined) {
          const at = index.get(after);
          if (at === undefined) return undefined;
          from = at + 1;
        }
        const to = limit === undefined ? sites.length : Math.min(sites.length, from + limit);
        return answer(from, to);
      },
    };
  }
}

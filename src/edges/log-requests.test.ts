import { describe, expect, it } from 'vitest';
import type { EdgeLogAnswer, LogRequest } from '../spec/index.js';
import { LogRequests } from './log-requests.js';
import { encodeCursor, parseLogQuery } from './log-routes.js';

const request = (edge: string, id: string): LogRequest => ({
  id,
  site: 'a.test',
  filter: { status: '404' },
  limit: 10,
});
const answer = (id: string): EdgeLogAnswer => ({
  id,
  lines: [],
  cursor: { file: 1, offset: 2 },
  truncated: false,
  error: null,
});

describe('log requests between the admin and the edges', () => {
  it('are delivered once to their edge, answered by that edge only, forgotten at the deadline', async () => {
    const logs = new LogRequests();
    let woken = false;
    void logs.wait('a', 5_000, new Promise(() => {})).then(() => (woken = true));
    const asked = logs.ask(['a', 'b'], request, 300);
    await new Promise((r) => setTimeout(r, 10));
    expect(woken).toBe(true); // a waiting long-poll answers at once
    const forA = logs.take('a');
    expect(forA).toHaveLength(1);
    expect(logs.take('a')).toEqual([]); // delivered once
    const id = forA[0]?.id ?? '';
    expect(logs.answer('b', answer(id))).toBe(false); // another edge cannot answer for a
    expect(logs.answer('a', answer(id))).toBe(true);
    expect(logs.answer('a', answer(id))).toBe(false); // once
    const result = await asked;
    expect(result.get('a')?.cursor).toEqual({ file: 1, offset: 2 });
    expect(result.has('b')).toBe(true);
    expect(result.get('b')).toBeUndefined(); // b never polled: not answering
    expect(logs.take('b')).toEqual([]); // and its request is gone
  });

  it('refuses to queue without bound for an edge that never polls', async () => {
    const logs = new LogRequests();
    const pending = Array.from({ length: 16 }, () => logs.ask(['down'], request, 200));
    await expect(logs.ask(['down'], request, 200)).rejects.toThrow(/16 log requests waiting/);
    await Promise.all(pending);
    await expect(logs.ask(['down'], request, 10)).resolves.toBeDefined();
  });

  it('parse the query with the field path of each problem', () => {
    expect(parseLogQuery({ status: '404,5xx', path: '/api/', limit: '5' })).toEqual({
      edge: undefined,
      filter: { status: '404,5xx', path: '/api/' },
      limit: 5,
      cursors: {},
      waitSeconds: 5,
    });
    const cursor = encodeCursor({ fra: { file: 7, offset: 99 } });
    expect(parseLogQuery({ cursor }).cursors).toEqual({ fra: { file: 7, offset: 99 } });
    const refused = (q: Record<string, unknown>) => {
      try {
        parseLogQuery(q);
      } catch (err) {
        return (err as Error).message;
      }
      return 'accepted';
    };
    expect(refused({ status: '600' })).toMatch(/^status: must be a status/);
    expect(refused({ path: 'api' })).toBe('path: must start with "/"');
    expect(refused({ cache: 'WARM' })).toMatch(/^cache: /);
    expect(refused({ client: 'not an ip' })).toBe('client: must be an IPv4 or IPv6 address');
    expect(refused({ limit: '0' })).toBe('limit: must be a whole number from 1 to 1000');
    expect(refused({ wait: '60' })).toBe('wait: must be a whole number from 1 to 15');
    expect(refused({ cursor: 'garbage' })).toBe('cursor: is not a cursor this API gave');
    expect(refused({ status: ['404', '500'] })).toBe('status: must be given once');
    expect(refused({ sort: 'time' })).toBe('sort: is not a parameter of this route');
  });

  it('between two control planes: the one holding the poll delivers it and passes the answer back', async () => {
    const asker = new LogRequests();
    const holder = new LogRequests();
    const forwarded: EdgeLogAnswer[] = [];
    asker.onAsked = (edge, req, ms) => holder.queueRemote(edge, req, ms);
    holder.onForward = (edge, a) => {
      forwarded.push(a);
      asker.answerFromElsewhere(edge, a);
    };
    const asked = asker.ask(['a'], request, 1_000);
    await new Promise((r) => setTimeout(r, 10));
    const [delivered] = holder.take('a');
    expect(delivered?.site).toBe('a.test');
    const id = delivered?.id ?? '';
    expect(asker.isWaiting(id)).toBe(true);
    expect(holder.answer('b', answer(id))).toBe(false); // not that edge's
    expect(holder.answer('a', answer(id))).toBe(true);
    expect(forwarded.map((f) => f.id)).toEqual([id]);
    expect((await asked).get('a')?.id).toBe(id);
    expect(holder.answer('a', answer(id))).toBe(false); // passed on once
    // A request announced twice is queued once; past its deadline it is neither delivered nor passed on.
    holder.queueRemote('a', request('a', 'late-request-1'), 20);
    holder.queueRemote('a', request('a', 'late-request-1'), 20);
    await new Promise((r) => setTimeout(r, 40));
    expect(holder.take('a')).toEqual([]);
    expect(holder.answer('a', answer('late-request-1'))).toBe(false);
  });
});

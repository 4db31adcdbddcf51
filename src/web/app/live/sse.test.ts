import { describe, expect, it } from 'vitest';
import { parseSse } from './sse.js';

describe('the status stream parser', () => {
  it('splits events, joins data lines, skips comments and keeps a partial event', () => {
    const { events, rest } = parseSse(
      ': keep-alive\n\nevent: status\ndata: {"a":\ndata: 1}\n\nevent: status\r\ndata: {"b"',
    );
    expect(events).toEqual([{ event: 'status', data: '{"a":\n1}' }]);
    expect(rest).toBe('event: status\r\ndata: {"b"');
  });
});

import { describe, expect, it } from 'vitest';
import { PublicIncident } from '../spec/index.js';
import { publicIncident } from './history.js';

const row = (message: string) => ({
  id: 1,
  kind: 'edge' as const,
  subject: 'fra1',
  started_at: '2026-12-01T10:00:00.000Z',
  ended_at: '2026-12-01T10:05:00.000Z',
  message,
});

describe('an incident on the public page', () => {
  it('carries the code read back from its stored English (rows older than codes too)', () => {
    const i = publicIncident(
      row('edge fra1 is down: connection failed: ECONNREFUSED'),
      new Date('2026-12-01T11:00:00.000Z'),
    );
    expect(PublicIncident.parse(i)).toEqual(i);
    expect(i).toMatchObject({
      message: 'edge fra1 is down: connection failed: ECONNREFUSED',
      code: 'alert_edge_down',
      params: {
        edge: 'fra1',
        reason: { code: 'probe_connection_failed', params: { error: 'ECONNREFUSED' } },
      },
      duration_seconds: 300,
    });
  });

  it('names no address in its values either (they are cut before the code is read)', () => {
    const i = publicIncident(
      row('edge fra1 is down: connection failed: connect ECONNREFUSED 192.0.2.7:80'),
      new Date('2026-12-01T11:00:00.000Z'),
    );
    expect(JSON.stringify(i)).not.toContain('192.0.2.7');
    expect(i.params).toEqual({
      edge: 'fra1',
      reason: {
        code: 'probe_connection_failed',
        params: { error: 'connect ECONNREFUSED (address)' },
      },
    });
  });

  it('keeps no code for a message the table does not word (shown in English)', () => {
    const i = publicIncident(row('something unusual'), new Date('2026-12-01T11:00:00.000Z'));
    expect(i.message).toBe('something unusual');
    expect(i.code).toBeUndefined();
    expect(i.params).toBeUndefined();
  });
});

// Issue 15, finding 3: the live probe's deadline follows the measured validation time.
import { describe, expect, it } from 'vitest';
import { probeDeadlineMs } from './agent.js';

describe('probeDeadlineMs', () => {
  it('has a 10 s floor for a quick validation', () => {
    expect(probeDeadlineMs(0)).toBe(10_000);
    expect(probeDeadlineMs(150)).toBe(10_000);
  });
  it('grows with a slow validation (a 1,500-site release on a loaded machine)', () => {
    expect(probeDeadlineMs(4_000)).toBe(20_000);
    expect(probeDeadlineMs(12_345)).toBe(61_725);
  });
});

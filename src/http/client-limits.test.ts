import { describe, expect, it } from 'vitest';
import { LoginLimiter } from './client-limits.js';

describe('failed logins', () => {
  const limits = {
    maxLoginFailuresPerUser: 3,
    maxLoginFailuresPerClient: 5,
    loginFailureWindowMs: 60_000,
  };

  it('one user name from many addresses: limited after its failures, for the rest of the window', () => {
    let now = 1_000_000;
    const limiter = new LoginLimiter(limits, () => now);
    for (const address of ['127.0.0.2', '127.0.0.3', '127.0.0.4']) {
      expect(limiter.check(address, 'ops')).toBeUndefined();
      limiter.failed(address, 'ops');
    }
    now += 20_000;
    const refused = limiter.check('127.0.0.9', 'ops');
    expect(refused?.code).toBe('too_many_requests');
    expect(refused?.retryAfter).toBe(40);
    expect(refused?.message).toBe('too many failed logins for user "ops"; try again in 40 s');
    // Another name from those addresses is not limited by ops's failures.
    expect(limiter.check('127.0.0.2', 'dev')).toBeUndefined();
    now += 40_000;
    expect(limiter.check('127.0.0.9', 'ops')).toBeUndefined();
  });

  it('many names from one address: the address is limited, for any name', () => {
    const limiter = new LoginLimiter(limits, () => 0);
    for (const name of ['a', 'b', 'c', 'd', 'e']) limiter.failed('127.0.0.5', name);
    expect(limiter.check('127.0.0.5', 'f')?.message).toBe(
      'too many failed logins from 127.0.0.5; try again in 60 s',
    );
    expect(limiter.check('127.0.0.6', 'f')).toBeUndefined();
  });

  it("a successful login clears its user name's failures, not its address's", () => {
    const limiter = new LoginLimiter({ ...limits, maxLoginFailuresPerClient: 4 }, () => 0);
    for (let i = 0; i < 2; i++) limiter.failed('127.0.0.7', 'ops');
    limiter.succeeded('ops');
    for (let i = 0; i < 2; i++) limiter.failed('127.0.0.8', 'ops');
    expect(limiter.check('127.0.0.8', 'ops')).toBeUndefined();
    limiter.failed('127.0.0.7', 'x');
    limiter.failed('127.0.0.7', 'y');
    expect(limiter.check('127.0.0.7', 'ops')?.retryAfter).toBe(60);
  });
});

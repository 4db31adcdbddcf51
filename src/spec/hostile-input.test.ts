// Issue 15, finding 6: an alias bomb, IPv6 zone ids, and control characters in values.
import { describe, expect, it } from 'vitest';
import { validateSpecYaml } from './file.js';
import { validateSpec } from './validate.js';
import { describeProblem, escapeControl } from './problems.js';

const site = (origin: unknown) => ({ sites: [{ domain: 'a.test', origins: [origin] }] });

describe('hostile input', () => {
  it('refuses a YAML alias bomb with a problem that names it (not a 500)', () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      lines.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const v = validateSpecYaml(lines.join('\n') + '\n');
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.problems[0]?.message).toMatch(/too many alias references/);
  });

  it('refuses an IPv6 zone id for an origin and for listen, naming the field', () => {
    const origin = validateSpec(site({ host: { v6: 'fe80::1%eth0' } }));
    expect(origin.ok).toBe(false);
    if (origin.ok) return;
    expect(origin.problems.map((p) => p.path)).toContain('sites[0].origins[0].host.v6');
    expect(origin.problems.map((p) => p.message).join()).toMatch(/zone id/);

    const listen = validateSpec({
      edges: [{ name: 'e1', host: { v4: '127.0.0.2' }, listen: { addresses: ['fe80::1%eth0'] } }],
    });
    expect(listen.ok).toBe(false);
    if (listen.ok) return;
    expect(listen.problems.map((p) => p.path).join()).toContain('edges[0].listen.addresses[0]');
    // A plain IPv6 address is still fine.
    expect(validateSpec(site({ host: { v6: 'fe80::1' } })).ok).toBe(true);
  });

  it('escapes raw newline, CR and NUL of a value in the message', () => {
    const v = validateSpec(site({ host: { v4: '1.2.3.4\n\r\0evil' } }));
    expect(v.ok).toBe(false);
    if (v.ok) return;
    const text = v.problems.map((p) => describeProblem(p)).join(' ');
    expect(text).not.toMatch(/[\n\r\0]/);
    expect(text).toContain('1.2.3.4\\n\\r\\0evil');
    expect(escapeControl('a\x1b[31mb\tc')).toBe('a\\x1b[31mb\tc');
  });
});

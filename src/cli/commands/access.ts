// `outpost token create|list|revoke`, `outpost user add|list|rm|passwd`, `outpost audit`,
// `outpost secrets rotate-key`: who may do what, who did what, and the key of the secrets.
import type { Command } from 'commander';
import { createInterface } from 'node:readline';
import type { ApiTokenCreated, ApiTokenList, EventList, Scope, UserList } from '../../spec/api.js';
import { CliError } from '../errors.js';
import { table } from '../output.js';
import type { CommandContext } from './context.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];
const SCOPES = 'read, purge, sites:write, edges:write, admin';

/** `30d`, `12h`, `90m` or an ISO 8601 time → ISO 8601. */
export function expiryOf(value: string, now = new Date()): string {
  const m = /^(\d+)([dhm])$/.exec(value);
  if (m) {
    const unit = { d: 86_400_000, h: 3_600_000, m: 60_000 }[m[2] as 'd' | 'h' | 'm'];
    return new Date(now.getTime() + Number(m[1]) * unit).toISOString();
  }
  if (Number.isNaN(Date.parse(value)))
    throw new CliError(`--expires: "${value}" is neither a duration (30d, 12h, 90m) nor a date`);
  return new Date(value).toISOString();
}

/** A password from the terminal (not echoed) or, when piped, the first line of stdin. */
export async function readPassword(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    let text = '';
    for await (const chunk of stdin) text += String(chunk);
    return text.split(/\r?\n/)[0] ?? '';
  }
  const rl = createInterface({ input: stdin, output: process.stderr, terminal: true });
  const muted = rl as unknown as { _writeToOutput: (s: string) => void };
  process.stderr.write(prompt);
  muted._writeToOutput = () => undefined;
  try {
    return await new Promise<string>((resolve) => rl.question('', resolve));
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}

interface GrantOptions {
  scope: string[];
  site?: string[];
  tag?: string[];
}

function grantOf(o: GrantOptions) {
  if (o.scope.length === 0) throw new CliError(`give at least one --scope (${SCOPES})`);
  return { scopes: o.scope as Scope[], sites: o.site ?? [], tags: o.tag ?? [] };
}

export function registerAccessCommands(program: Command, ctx: CommandContext): void {
  const { client, out } = ctx;
  const token = program.command('token').description('named API tokens with scopes');
  token
    .command('create <name>')
    .description('create a token; its value is shown once')
    .option('--scope <scope>', `a scope (repeatable): ${SCOPES}`, collect, [])
    .option('--site <domain>', 'purge/sites:write only for this site (repeatable)', collect)
    .option('--tag <tag>', 'purge/sites:write only for sites with this tag (repeatable)', collect)
    .option('--expires <when>', 'a duration (30d, 12h) or a date; default: never')
    .action(async (name: string, o: GrantOptions & { expires?: string }) => {
      const created = await client().request<ApiTokenCreated>('POST', 'v1/tokens', {
        name,
        ...grantOf(o),
        ...(o.expires !== undefined ? { expires_at: expiryOf(o.expires) } : {}),
      });
      out.line(`Token ${created.token.name} (${created.token.scopes.join(', ')}), shown once:`);
      out.line(`  ${created.value}`);
    });
  token
    .command('list')
    .description('list tokens (never their values)')
    .action(async () => {
      const { tokens } = await client().request<ApiTokenList>('GET', 'v1/tokens');
      out.line(
        table([
          ['NAME', 'SCOPES', 'SITES', 'EXPIRES', 'LAST USED'],
          ...tokens.map((t) => [
            t.name,
            t.scopes.join(','),
            [...t.sites, ...t.tags.map((x) => `tag:${x}`)].join(',') || '*',
            t.expires_at ?? 'never',
            t.last_used_at ?? 'never',
          ]),
        ]),
      );
    });
  token
    .command('revoke <name>')
    .description('revoke a token at once')
    .action(async (name: string) => {
      await client().request('DELETE', `v1/tokens/${encodeURIComponent(name)}`);
      out.line(`Token ${name} revoked.`);
    });

  const user = program.command('user').description('users of the web UI');
  user
    .command('add <name>')
    .description('add a user; the password is read from the terminal or stdin, never argv')
    .option('--scope <scope>', `a scope of the role (repeatable): ${SCOPES}`, collect, [])
    .option('--site <domain>', 'purge/sites:write only for this site (repeatable)', collect)
    .option('--tag <tag>', 'purge/sites:write only for sites with this tag (repeatable)', collect)
    .action(async (name: string, o: GrantOptions) => {
      const grant = grantOf(o);
      const password = await readPassword(`Password for ${name}: `);
      await client().request('POST', 'v1/users', { name, password, ...grant });
      out.line(`User ${name} added (${grant.scopes.join(', ')}).`);
    });
  user
    .command('list')
    .description('list users')
    .action(async () => {
      const { users } = await client().request<UserList>('GET', 'v1/users');
      out.line(
        table([
          ['NAME', 'SCOPES', 'SITES', 'CREATED'],
          ...users.map((u) => [
            u.name,
            u.scopes.join(','),
            [...u.sites, ...u.tags.map((x) => `tag:${x}`)].join(',') || '*',
            u.created_at,
          ]),
        ]),
      );
    });
  user
    .command('rm <name>')
    .description('remove a user and end their sessions')
    .action(async (name: string) => {
      await client().request('DELETE', `v1/users/${encodeURIComponent(name)}`);
      out.line(`User ${name} removed.`);
    });
  user
    .command('passwd <name>')
    .description("set a user's password (from the terminal or stdin); ends their sessions")
    .action(async (name: string) => {
      const password = await readPassword(`New password for ${name}: `);
      await client().request('PUT', `v1/users/${encodeURIComponent(name)}/password`, {
        password,
      });
      out.line(`Password of ${name} changed.`);
    });

  program
    .command('audit')
    .description('the audit log: who did what, from where (newest first)')
    .option('--limit <n>', 'how many events', Number, 50)
    .action(async (o: { limit: number }) => {
      const { events } = await client().request<EventList>('GET', `v1/events?limit=${o.limit}`);
      out.line(
        table([
          ['TIME', 'WHO', 'FROM', 'WHAT', 'SUBJECT'],
          ...events.map((e) => [e.at, e.actor, e.address ?? '-', e.action, e.subject]),
        ]),
      );
    });

  program
    .command('secrets')
    .description("the key that seals the store's secrets")
    .command('rotate-key')
    .description('write a new key file and re-seal every secret with it, in one transaction')
    .action(async () => {
      const r = await client().request<{ secrets: number; key: string }>(
        'POST',
        'v1/secrets/rotate-key',
      );
      out.line(`Re-sealed ${r.secrets} secrets with key ${r.key}.`);
    });
}

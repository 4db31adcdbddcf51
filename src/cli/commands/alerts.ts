// `outpost alerts [list]`, `outpost alerts channel add|list|rm`, `outpost alerts test CHANNEL`:
// the alerts the notifier tracks and the channels that tell a person (docs/alerts.md). A
// channel's secret comes from --secret-file or the terminal/stdin, never from argv.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type {
  AlertList,
  ChannelAnswer,
  ChannelList,
  ChannelSettings,
  ChannelTested,
} from '../../spec/index.js';
import { SECRET_OF } from '../../spec/notify.js';
import { UsageError } from '../errors.js';
import { table } from '../output.js';
import { readPassword } from './access.js';
import type { CommandContext } from './context.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];
const TYPES = ['webhook', 'slack', 'telegram', 'email'] as const;

interface AddOptions {
  type: string;
  url?: string;
  chatId?: string;
  apiUrl?: string;
  smtpHost?: string;
  smtpPort?: string;
  smtpTls?: string;
  smtpUser?: string;
  smtpCaFile?: string;
  smtpAllowUntrusted?: boolean;
  from?: string;
  to: string[];
  kind: string[];
  minSeverity?: string;
  secretFile?: string;
}

function need(value: string | undefined, flag: string, type: string): string {
  if (value === undefined) throw new UsageError(`a ${type} channel needs ${flag}`);
  return value;
}

function readCa(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(
      `--smtp-ca-file: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    );
  }
}

/** The channel's settings from the flags (the server checks them again, naming fields). */
export function settingsOf(o: AddOptions): ChannelSettings {
  switch (o.type) {
    case 'webhook':
      return { type: 'webhook', url: need(o.url, '--url', o.type) };
    case 'slack':
      return { type: 'slack' };
    case 'telegram':
      return {
        type: 'telegram',
        chat_id: need(o.chatId, '--chat-id', o.type),
        api_url: o.apiUrl ?? 'https://api.telegram.org',
      };
    case 'email':
      return {
        type: 'email',
        host: need(o.smtpHost, '--smtp-host', o.type),
        port: o.smtpPort === undefined ? 587 : Number(o.smtpPort),
        tls: (o.smtpTls ?? 'starttls') as 'starttls' | 'tls' | 'none',
        ...(o.smtpUser !== undefined ? { user: o.smtpUser } : {}),
        ...(o.smtpCaFile !== undefined ? { tls_ca: readCa(o.smtpCaFile) } : {}),
        ...(o.smtpAllowUntrusted === true ? { tls_allow_untrusted: true } : {}),
        from: need(o.from, '--from', o.type),
        to: o.to.length > 0 ? o.to : [need(undefined, '--to', o.type)],
      };
    default:
      throw new UsageError(`--type must be one of ${TYPES.join(', ')}, not "${o.type}"`);
  }
}

async function secretOf(o: AddOptions, settings: ChannelSettings): Promise<string | undefined> {
  const needed = settings.type !== 'email' || settings.user !== undefined;
  if (o.secretFile !== undefined) {
    try {
      return readFileSync(o.secretFile, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new UsageError(
        `--secret-file: cannot read ${o.secretFile} (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      );
    }
  }
  if (!needed) return undefined;
  return readPassword(`Secret of the channel (${SECRET_OF[settings.type]}): `);
}

export function registerAlertsCommands(program: Command, ctx: CommandContext): void {
  const { client, out } = ctx;
  const alerts = program
    .command('alerts')
    .description('alerts and the channels that notify a person (webhook, Slack, Telegram, email)');

  alerts
    .command('list', { isDefault: true })
    .description('the alerts as the notifier tracks them: firing, pending or resolving')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const answer = await client().request<AlertList>('GET', 'v1/alerts');
      if (o.json) return out.json(answer);
      if (answer.alerts.length === 0) return out.line('No alerts.');
      out.line(
        table([
          ['ID', 'SEVERITY', 'STATE', 'SINCE', 'MESSAGE'],
          ...answer.alerts.map((a) => [
            a.id,
            a.severity,
            a.cleared_at !== null ? 'resolving' : a.fired_at !== null ? 'firing' : 'pending',
            a.first_seen,
            a.message,
          ]),
        ]),
      );
    });

  const channel = alerts.command('channel').description('notification channels');
  channel
    .command('add <name>')
    .description('add a channel; its secret is read from --secret-file, the terminal or stdin')
    .requiredOption('--type <type>', `the channel type: ${TYPES.join(', ')}`)
    .option('--url <url>', 'webhook: the URL the signed JSON is POSTed to')
    .option('--chat-id <id>', 'telegram: the chat to send to')
    .option('--api-url <url>', 'telegram: the Bot API (default https://api.telegram.org)')
    .option('--smtp-host <host>', 'email: the SMTP server')
    .option('--smtp-port <port>', 'email: its port (default 587)')
    .option('--smtp-tls <mode>', 'email: starttls (default), tls (465) or none')
    .option('--smtp-user <user>', 'email: the SMTP login (its password is the secret)')
    .option(
      '--smtp-ca-file <pem>',
      "email: trust this CA (or the server's self-signed certificate) besides the system's",
    )
    .option(
      '--smtp-allow-untrusted',
      'email: accept any certificate (encrypted, but not checked: anyone on the path can read the mail and the password)',
    )
    .option('--from <address>', 'email: the sender')
    .option('--to <address>', 'email: a recipient (repeatable)', collect, [])
    .option('--kind <kind>', 'only alerts of this kind (repeatable; default: all)', collect, [])
    .option('--min-severity <severity>', 'info, warning (default) or critical')
    .option(
      '--secret-file <file>',
      'a file holding the secret: the webhook signing secret, the Slack webhook URL, the Telegram bot token or the SMTP password',
    )
    .action(async (name: string, o: AddOptions) => {
      const settings = settingsOf(o);
      const secret = await secretOf(o, settings);
      const { channel: c } = await client().request<ChannelAnswer>('POST', 'v1/alerts/channels', {
        name,
        settings,
        ...(secret !== undefined ? { secret } : {}),
        kinds: o.kind,
        ...(o.minSeverity !== undefined ? { min_severity: o.minSeverity } : {}),
      });
      out.line(
        `Channel ${c.name} (${c.settings.type}) added: ${c.kinds.length > 0 ? c.kinds.join(', ') : 'every kind'}, ${c.min_severity} or worse.`,
      );
      out.line(`Send it a test message with: outpost alerts test ${c.name}`);
    });
  channel
    .command('list')
    .description('list channels (never their secrets)')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const answer = await client().request<ChannelList>('GET', 'v1/alerts/channels');
      if (o.json) return out.json(answer);
      if (answer.channels.length === 0) return out.line('No channels.');
      out.line(
        table([
          ['NAME', 'TYPE', 'TO', 'KINDS', 'MIN', 'LAST SENT', 'LAST ERROR'],
          ...answer.channels.map((c) => [
            c.name,
            c.settings.type,
            targetOf(c.settings),
            c.kinds.join(',') || '*',
            c.min_severity,
            c.last_sent_at ?? 'never',
            c.last_error ?? '-',
          ]),
        ]),
      );
    });
  channel
    .command('rm <name>')
    .description('remove a channel')
    .action(async (name: string) => {
      await client().request('DELETE', `v1/alerts/channels/${encodeURIComponent(name)}`);
      out.line(`Channel ${name} removed.`);
    });

  alerts
    .command('test <channel>')
    .description('send a test message through a channel now')
    .action(async (name: string) => {
      const r = await client().request<ChannelTested>(
        'POST',
        `v1/alerts/channels/${encodeURIComponent(name)}/test`,
      );
      out.line(`Test message ${r.id} delivered to channel ${r.channel}.`);
    });
}

/** Where a channel sends, without its secret (a Slack URL is one: it shows as "webhook URL"). */
function targetOf(s: ChannelSettings): string {
  switch (s.type) {
    case 'webhook':
      return s.url;
    case 'slack':
      return '(webhook URL)';
    case 'telegram':
      return `chat ${s.chat_id}`;
    case 'email':
      return s.to.join(',');
  }
}

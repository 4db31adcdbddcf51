// Receivers of notifications on loopback: an HTTP server that records every request (a
// webhook, Slack or Telegram stand-in: only its documented request shape matters here) and
// a real SMTP server (the npm smtp-server) that keeps every message it accepts.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: Date;
}

export class HttpReceiver {
  readonly requests: ReceivedRequest[] = [];
  /** Answer this many requests with `failStatus` before accepting. */
  failNext = 0;
  failStatus = 503;
  /** The JSON body of an accepted answer (Telegram answers {"ok": true, …}). */
  answer: unknown = { ok: true };
  private server: Server | undefined;
  url = '';

  async start(host = '127.0.0.1'): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.requests.push({
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          at: new Date(),
        });
        if (this.failNext > 0) {
          this.failNext--;
          res.writeHead(this.failStatus).end('not now');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.answer));
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, host, resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://${host}:${port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }
}

export interface ReceivedMail {
  from: string;
  to: string[];
  user: string | undefined;
  /** Whether the session was encrypted (STARTTLS) when the message came. */
  secure: boolean;
  raw: string;
  subject: string;
}

/**
 * A real SMTP server on loopback: plain SMTP, or STARTTLS with `tls` (a key and certificate,
 * e.g. self-signed); optional AUTH PLAIN/LOGIN.
 */
export class SmtpReceiver {
  readonly messages: ReceivedMail[] = [];
  port = 0;
  private server: SMTPServer | undefined;

  constructor(
    private readonly login?: { user: string; pass: string },
    private readonly tls?: { key: string; cert: string },
  ) {}

  async start(host = '127.0.0.1'): Promise<this> {
    const login = this.login;
    const disabled = [...(this.tls ? [] : ['STARTTLS']), ...(login ? [] : ['AUTH'])];
    this.server = new SMTPServer({
      disabledCommands: disabled,
      ...(this.tls ? { key: this.tls.key, cert: this.tls.cert } : {}),
      allowInsecureAuth: true,
      authOptional: login === undefined,
      logger: false,
      onAuth(auth, _session, callback) {
        if (login && auth.username === login.user && auth.password === login.pass)
          callback(null, { user: auth.username });
        else callback(new Error('Invalid username or password'));
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          const subject =
            /^Subject: (.*(?:\r?\n[ \t].*)*)/m.exec(raw)?.[1]?.replace(/\r?\n[ \t]/g, ' ') ?? '';
          this.messages.push({
            from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
            to: session.envelope.rcptTo.map((r) => r.address),
            user: typeof session.user === 'string' ? session.user : undefined,
            secure: session.secure,
            raw,
            subject,
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => this.server?.listen(0, host, resolve));
    this.port = (this.server.server.address() as AddressInfo).port;
    return this;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }
}

// A minimal WebSocket (RFC 6455) for end-to-end tests, with node's own http 'upgrade' events:
// an echo origin and a client that completes the handshake, sends one masked text frame and
// reads the answer. Small text frames only (payloads under 126 bytes), which is all tests send.
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function acceptKey(key: string): string {
  return createHash('sha1').update(`${key}${GUID}`).digest('base64');
}

function frame(text: string, mask: boolean): Buffer {
  const payload = Buffer.from(text);
  if (payload.length > 125) throw new Error('test frames are at most 125 bytes');
  const head = Buffer.from([0x81, (mask ? 0x80 : 0) | payload.length]);
  if (!mask) return Buffer.concat([head, payload]);
  const key = randomBytes(4);
  const masked = payload.map((b, i) => b ^ (key[i % 4] ?? 0));
  return Buffer.concat([head, key, masked]);
}

/** Reads text frames from `data` (masked or not); returns them and the bytes left over. */
function readFrames(data: Buffer): { texts: string[]; rest: Buffer } {
  const texts: string[] = [];
  let at = 0;
  while (data.length - at >= 2) {
    const len = (data[at + 1] ?? 0) & 0x7f;
    const masked = ((data[at + 1] ?? 0) & 0x80) !== 0;
    const need = 2 + (masked ? 4 : 0) + len;
    if (len > 125) throw new Error('unexpected long frame');
    if (data.length - at < need) break;
    const key = masked ? data.subarray(at + 2, at + 6) : undefined;
    const body = Buffer.from(data.subarray(at + need - len, at + need));
    if (key) for (let i = 0; i < body.length; i++) body[i] = (body[i] ?? 0) ^ (key[i % 4] ?? 0);
    texts.push(body.toString());
    at += need;
  }
  return { texts, rest: data.subarray(at) };
}

/** What the echo origin saw of each handshake. */
export interface SeenUpgrade {
  path: string;
  host: string;
  upgrade: string | undefined;
  connection: string | undefined;
}

/**
 * Answers WebSocket handshakes on `server` and echoes every text frame as `echo: <text>`.
 * Upgraded sockets leave the server's books (closeAllConnections does not see them): call the
 * returned `close` before closing the server.
 */
export function attachWebSocketEcho(
  server: Server,
  seen: SeenUpgrade[] = [],
): { seen: SeenUpgrade[]; close: () => void } {
  const sockets = new Set<Duplex>();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    seen.push({
      path: req.url ?? '',
      host: req.headers.host ?? '',
      upgrade: req.headers.upgrade,
      connection: req.headers.connection,
    });
    const key = req.headers['sec-websocket-key'];
    if (req.headers.upgrade?.toLowerCase() !== 'websocket' || typeof key !== 'string') {
      socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`,
    );
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      const { texts, rest } = readFrames(Buffer.concat([pending, chunk]));
      pending = rest;
      for (const t of texts) socket.write(frame(`echo: ${t}`, false));
    });
    socket.on('error', () => socket.destroy());
  });
  return {
    seen,
    close: () => {
      for (const s of sockets) s.destroy();
    },
  };
}

export interface WebSocketClient {
  /** Status of the handshake answer (101 when it upgraded). */
  status: number;
  /** Sends one text frame and waits for the next text frame. */
  send: (text: string, timeoutMs?: number) => Promise<string>;
  close: () => void;
}

/**
 * Opens a WebSocket to `url` (ws: or wss:, the edge's address) with the given Host, and for
 * wss the TLS server name and CA to verify against.
 */
export function openWebSocket(
  url: string,
  opts: { host: string; ca?: string; timeoutMs?: number },
): Promise<WebSocketClient> {
  const u = new URL(url);
  const tls = u.protocol === 'wss:';
  const key = randomBytes(16).toString('base64');
  return new Promise((resolve, reject) => {
    const req = (tls ? httpsRequest : httpRequest)({
      host: u.hostname,
      port: u.port,
      path: `${u.pathname}${u.search}`,
      agent: false,
      timeout: opts.timeoutMs ?? 10_000,
      headers: {
        host: opts.host,
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': key,
      },
      ...(tls ? { servername: opts.host, ...(opts.ca ? { ca: opts.ca } : {}) } : {}),
    });
    req.once('timeout', () => req.destroy(new Error(`WebSocket handshake timed out: ${url}`)));
    req.once('error', reject);
    req.once('response', (res) => {
      res.resume();
      resolve({
        status: res.statusCode ?? 0,
        send: () => Promise.reject(new Error('not upgraded')),
        close: () => req.destroy(),
      });
    });
    req.once('upgrade', (res, socket: Duplex, head: Buffer) => {
      if (res.headers['sec-websocket-accept'] !== acceptKey(key)) {
        socket.destroy();
        reject(new Error('wrong Sec-WebSocket-Accept'));
        return;
      }
      let pending: Buffer = Buffer.from(head);
      const waiting: ((text: string) => void)[] = [];
      const queued: string[] = [];
      socket.on('data', (chunk: Buffer) => {
        const { texts, rest } = readFrames(Buffer.concat([pending, chunk]));
        pending = rest;
        for (const t of texts) {
          const w = waiting.shift();
          if (w) w(t);
          else queued.push(t);
        }
      });
      socket.on('error', () => socket.destroy());
      resolve({
        status: res.statusCode ?? 0,
        send: (text, timeoutMs = 5000) =>
          new Promise((done, fail) => {
            if (socket.destroyed) {
              fail(new Error('the WebSocket connection is closed'));
              return;
            }
            const timer = setTimeout(
              () => fail(new Error(`no WebSocket answer to "${text}"`)),
              timeoutMs,
            );
            const onClose = () => fail(new Error('the WebSocket connection closed'));
            socket.once('close', onClose);
            waiting.push((t) => {
              clearTimeout(timer);
              socket.off('close', onClose);
              done(t);
            });
            const q = queued.shift();
            if (q !== undefined) waiting.shift()?.(q);
            socket.write(frame(text, true));
          }),
        close: () => socket.destroy(),
      });
    });
    req.end();
  });
}

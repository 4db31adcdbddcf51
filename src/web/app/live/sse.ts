// The control plane's status stream: Server-Sent Events (`event: status`, the JSON of
// GET /v1/status), read with fetch() because the stream needs the Authorization header, which
// EventSource cannot send.
import { authHeaders, errorFrom } from '../api/client.js';
import type { StatusSnapshot } from '../api/types.js';

export interface SseEvent {
  event: string;
  data: string;
}

/** Splits an SSE byte stream (already decoded) into events; returns the unparsed rest. */
export function parseSse(buffer: string): { events: SseEvent[]; rest: string } {
  const events: SseEvent[] = [];
  const blocks = buffer.split(/\r?\n\r?\n/);
  const rest = blocks.pop() ?? '';
  for (const block of blocks) {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0) events.push({ event, data: data.join('\n') });
  }
  return { events, rest };
}

/** Reads the status stream until it ends or `signal` aborts. */
export async function streamStatus(
  onStatus: (s: StatusSnapshot) => void,
  onOpen: () => void,
  signal: AbortSignal,
): Promise<void> {
  const res = await fetch('/v1/events/stream', {
    headers: { ...authHeaders(), accept: 'text/event-stream' },
    signal,
  });
  if (!res.ok || !res.body) throw await errorFrom(res);
  onOpen();
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    const { events, rest } = parseSse(buffer);
    buffer = rest;
    for (const e of events)
      if (e.event === 'status') onStatus(JSON.parse(e.data) as StatusSnapshot);
  }
}

// Live status: the control plane's Server-Sent Events stream (`event: status`), read with
// fetch() because the stream needs the Authorization header, which EventSource cannot send.
// Falls back to polling /v1/status slowly when the control plane has no stream.
import { useEffect, useState } from 'react';
import { ApiError, authHeaders, errorFrom, getStatus, type StatusAnswer } from './api.js';

export type LiveMode = 'connecting' | 'live' | 'polling' | 'offline';

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
  onStatus: (s: StatusAnswer) => void,
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
    for (const e of events) if (e.event === 'status') onStatus(JSON.parse(e.data) as StatusAnswer);
  }
}

const POLL_MS = 5000;
const RETRY_MS = 2000;

/** The newest status, kept current by the stream (or slow polling without one). */
export function useLiveStatus(): { status: StatusAnswer | null; mode: LiveMode; error: unknown } {
  const [status, setStatus] = useState<StatusAnswer | null>(null);
  const [mode, setMode] = useState<LiveMode>('connecting');
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, ms);
      });
    const fetchOnce = async () => {
      try {
        setStatus(await getStatus());
        setError(null);
        return true;
      } catch (err) {
        if (!abort.signal.aborted) setError(err);
        return false;
      }
    };
    const run = async () => {
      await fetchOnce();
      while (!abort.signal.aborted) {
        try {
          await streamStatus(
            (s) => {
              setStatus(s);
              setError(null);
            },
            () => setMode('live'),
            abort.signal,
          );
          // The stream ended (control plane restarting): reconnect.
          if (!abort.signal.aborted) setMode('connecting');
          await sleep(RETRY_MS);
        } catch (err) {
          if (abort.signal.aborted) return;
          if (err instanceof ApiError && err.status === 404) {
            // No stream on this control plane: poll instead.
            setMode('polling');
            for (;;) {
              await sleep(POLL_MS);
              if (abort.signal.aborted) return;
              await fetchOnce();
            }
          }
          setMode('offline');
          await sleep(RETRY_MS);
          await fetchOnce();
        }
      }
    };
    void run();
    return () => {
      abort.abort();
      if (timer) clearTimeout(timer);
    };
  }, []);

  return { status, mode, error };
}

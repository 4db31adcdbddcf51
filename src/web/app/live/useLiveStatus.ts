// The newest status, kept current by the status stream; falls back to polling /v1/status
// slowly when the control plane has no stream.
import { useEffect, useState } from 'react';
import { ApiError, getStatus } from '../api/client.js';
import type { StatusSnapshot } from '../api/types.js';
import { streamStatus } from './sse.js';

export type LiveMode = 'connecting' | 'live' | 'polling' | 'offline';

export interface LiveStatus {
  status: StatusSnapshot | null;
  mode: LiveMode;
  error: unknown;
}

const POLL_MS = 5000;
const RETRY_MS = 2000;

/** The newest status, kept current by the stream (or slow polling without one). */
export function useLiveStatus(): LiveStatus {
  const [status, setStatus] = useState<StatusSnapshot | null>(null);
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

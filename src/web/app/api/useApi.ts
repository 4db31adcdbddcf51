// Loads an API resource, reloading when `deps` change; keeps the last good value while
// reloading, and says when the control plane has no such route.
import { useCallback, useEffect, useState } from 'react';
import { ApiError } from './client.js';

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  missing: boolean;
  reload: () => void;
}

export function useApi<T>(load: () => Promise<T>, deps: readonly unknown[] = []): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    load().then(
      (v) => {
        if (!live) return;
        setData(v);
        setError(null);
      },
      (err: unknown) => {
        if (!live) return;
        setError(err);
      },
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  // Derived from the error, not kept beside it: the two cannot disagree.
  const missing = error instanceof ApiError && error.routeMissing;
  return { data, error, missing, reload };
}

// One live status for the whole admin UI: the shell opens the stream once (LiveProvider) and
// every page reads it with useLive(), without importing the shell.
import { createContext, useContext, type ReactNode } from 'react';
import { useLiveStatus, type LiveStatus } from './useLiveStatus.js';

const LiveContext = createContext<LiveStatus>({ status: null, mode: 'connecting', error: null });

export function LiveProvider(props: { children: ReactNode }) {
  return <LiveContext.Provider value={useLiveStatus()}>{props.children}</LiveContext.Provider>;
}

export const useLive = (): LiveStatus => useContext(LiveContext);

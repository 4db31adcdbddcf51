// What the UI's bundle gets for `node:net` (vite.config.ts aliases it here): the spec's address
// checks, which the browser never runs. The UI validates nothing itself; it only reads the
// spec's defaults (defaults.ts), and the control plane checks every address. A call here is a
// mistake, so it says so instead of guessing an answer.
function notInTheBrowser(): never {
  throw new Error('address checks run on the control plane, not in the browser');
}

export const isIPv4 = (_value: string): boolean => notInTheBrowser();
export const isIPv6 = (_value: string): boolean => notInTheBrowser();

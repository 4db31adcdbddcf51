// Numbers and times as the pages show them.
import { i18n } from '../i18n/index.js';

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

export function formatAge(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return i18n.t('common.never');
  if (seconds < 60) return i18n.t('format.secondsAgo', { n: seconds });
  if (seconds < 3600) return i18n.t('format.minutesAgo', { n: Math.floor(seconds / 60) });
  return i18n.t('format.hoursAgo', { n: Math.floor(seconds / 3600) });
}

export function formatRelease(applied: number | null, desired: number | null): string {
  return `${applied ?? '–'}/${desired ?? '–'}`;
}

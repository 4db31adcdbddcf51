// The UI's languages (issue 22): English and Simplified Chinese through i18next. The language
// is the one chosen with the header's switch (kept in localStorage), else the browser's first
// language we have (navigator.languages: zh, zh-CN, zh-Hans, … → zh-CN), else English.
// `<html lang>` follows it. English is in the main bundle (it is also the fallback); the
// Chinese catalogue is a chunk of its own, fetched only when it is shown. Every string is a key of ./en.ts (the source of truth) and
// ./zh-CN.ts; i18n.test.ts fails on a key missing from either, on an unused key and on a JSX
// text left untranslated.
import i18next from 'i18next';
import { initReactI18next } from 'react-i18next';
import { en } from './en.js';

export const LANGUAGES = ['en', 'zh-CN'] as const;
export type Language = (typeof LANGUAGES)[number];

const STORAGE_KEY = 'outpost.language';

declare module 'i18next' {
  interface CustomTypeOptions {
    defaultNS: 'translation';
    resources: { translation: typeof en };
  }
}

/**
 * The language to show: a stored choice we have, else the first of the browser's languages we
 * have, else English. Chinese in the Simplified script (zh, zh-CN, zh-SG, zh-Hans-…) is zh-CN;
 * Traditional (zh-TW, zh-HK, zh-MO, zh-Hant-…) is not, and the next language is tried.
 */
export function pickLanguage(stored: string | null, preferred: readonly string[]): Language {
  if (stored !== null && (LANGUAGES as readonly string[]).includes(stored))
    return stored as Language;
  for (const tag of preferred) {
    const t = tag.toLowerCase();
    if (t === 'en' || t.startsWith('en-')) return 'en';
    if (t === 'zh' || t.startsWith('zh-')) {
      if (/^zh-(hant|tw|hk|mo)\b/.test(t)) continue;
      return 'zh-CN';
    }
  }
  return 'en';
}

function storedLanguage(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage refused (a sandboxed frame): the browser's language then
  }
}

/** Adds a language's catalogue to i18next, fetching its chunk the first time. */
async function load(lang: Language): Promise<void> {
  if (lang === 'en' || i18next.hasResourceBundle(lang, 'translation')) return;
  const { zhCN } = await import('./zh-CN.js');
  i18next.addResourceBundle(lang, 'translation', zhCN);
}

/** Switches the UI's language and remembers it for this browser. */
export async function setLanguage(lang: Language): Promise<void> {
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    /* not remembered, still switched */
  }
  await load(lang);
  await i18next.changeLanguage(lang);
}

export const i18n = i18next;

/** Starts i18next in the language to show (its catalogue loaded): render after it resolves. */
export async function initI18n(): Promise<void> {
  const preferred =
    typeof navigator !== 'undefined'
      ? navigator.languages.length > 0
        ? navigator.languages
        : [navigator.language]
      : [];
  const lng = pickLanguage(storedLanguage(), preferred);
  await i18next.use(initReactI18next).init({
    resources: { en: { translation: en } },
    partialBundledLanguages: true,
    lng: 'en',
    fallbackLng: 'en',
    supportedLngs: [...LANGUAGES],
    // React escapes what it renders; escaping here too would show &quot; in the page.
    interpolation: { escapeValue: false },
    returnNull: false,
    initAsync: false,
  });
  const mark = (lng: string) => {
    document.documentElement.lang = lng;
  };
  i18next.on('languageChanged', mark);
  try {
    await load(lng);
    await i18next.changeLanguage(lng);
  } catch {
    /* the chunk could not be fetched: English */
  }
  mark(i18next.language);
}

// The language switch in the header (admin UI and public status page): each language named in
// itself, the choice kept in localStorage.
import { useTranslation } from 'react-i18next';
import { LANGUAGES, setLanguage, type Language } from './index.js';

const NAMES = { en: 'lang.en', 'zh-CN': 'lang.zh-CN' } as const satisfies Record<Language, string>;

export function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  const current = (LANGUAGES as readonly string[]).includes(i18n.language)
    ? (i18n.language as Language)
    : 'en';
  return (
    <label className="language-switch">
      <select
        value={current}
        onChange={(e) => void setLanguage(e.target.value as Language)}
        data-testid="language-switch"
        aria-label={t('lang.label')}
      >
        {LANGUAGES.map((l) => (
          <option key={l} value={l} lang={l}>
            {t(NAMES[l])}
          </option>
        ))}
      </select>
    </label>
  );
}

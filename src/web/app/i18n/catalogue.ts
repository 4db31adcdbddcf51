// The English catalogue's sentences made from the API's own tables (spec/problems.ts SENTENCES,
// spec/messages.ts MESSAGE_TEMPLATES): the UI's English is the API's English by construction,
// and a new sentence needs only its translation in zh-CN.ts. A template with plural forms
// (`{one, other}`) becomes i18next's `<code>_one` and `<code>_other` keys.
type Plural = { readonly one: string; readonly other: string };
type Table = Readonly<Record<string, string | Plural>>;

export type CatalogueOf<T extends Table> = {
  readonly [K in keyof T & string as T[K] extends string ? K : never]: T[K];
} & {
  readonly [K in keyof T & string as T[K] extends Plural ? `${K}_one` : never]: T[K] extends Plural
    ? T[K]['one']
    : never;
} & {
  readonly [
    K in keyof T & string as T[K] extends Plural ? `${K}_other` : never
  ]: T[K] extends Plural ? T[K]['other'] : never;
};

/** `table` as catalogue entries (plural templates as `_one`/`_other` keys). */
export function catalogueOf<T extends Table>(table: T): CatalogueOf<T> {
  const entries: Record<string, string> = {};
  for (const [code, t] of Object.entries(table)) {
    if (typeof t === 'string') entries[code] = t;
    else {
      entries[`${code}_one`] = t.one;
      entries[`${code}_other`] = t.other;
    }
  }
  return entries as CatalogueOf<T>;
}

// The directives of an nginx config text, for tests that check no value injected one.

/**
 * Directive names (first word of each statement or block), in order, from nginx config text.
 * Entries of `map` and `geo` blocks are data, not directives: they count as `<entry>`.
 */
export function directiveNames(conf: string): string[] {
  const names: string[] = [];
  const blocks: string[] = [];
  let words: string[] = [];
  let i = 0;
  while (i < conf.length) {
    const ch = conf[i] as string;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '#') {
      while (i < conf.length && conf[i] !== '\n') i++;
    } else if (ch === ';' || ch === '{' || ch === '}') {
      const inData = ['map', 'geo'].includes(blocks[blocks.length - 1] ?? '');
      const name = words[0];
      if (name !== undefined) names.push(inData ? '<entry>' : name);
      if (ch === '{') blocks.push(name ?? '');
      if (ch === '}') blocks.pop();
      words = [];
      i++;
    } else if (ch === '"' || ch === "'") {
      let word = '';
      i++;
      while (i < conf.length && conf[i] !== ch) {
        if (conf[i] === '\\') i++;
        word += conf[i] ?? '';
        i++;
      }
      i++;
      words.push(word);
    } else {
      let word = '';
      while (i < conf.length && !/[\s;{}"']/.test(conf[i] as string)) {
        if (conf[i] === '\\') i++;
        word += conf[i] ?? '';
        i++;
      }
      words.push(word);
    }
  }
  return names;
}

// A small writer for nginx configuration text: indented lines, blocks and raw snippets.

const RAW_MARK = '# UNCHECKED raw_nginx from the spec';

export class Conf {
  private readonly out: string[] = [];
  private depth = 0;
  line(text = ''): this {
    this.out.push(text === '' ? '' : `${'    '.repeat(this.depth)}${text}`);
    return this;
  }
  block(head: string, body: () => void): this {
    this.line(`${head} {`);
    this.depth++;
    body();
    this.depth--;
    return this.line('}');
  }
  /** Inserts text verbatim (raw snippets), between markers. */
  raw(label: string, snippet: string): this {
    this.line(`${RAW_MARK} (${label}): begin`);
    for (const l of snippet.replace(/\n$/, '').split('\n')) this.out.push(l);
    return this.line(`${RAW_MARK} (${label}): end`);
  }
  toString(): string {
    return `${this.out.join('\n')}\n`;
  }
}

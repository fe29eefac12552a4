// The Markdown report as HTML for the benchmark page: the few constructs renderMarkdown writes
// (headings, paragraphs, pipe tables, `code`, **bold**, _emphasis_, > notes), escaped first.

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function inline(text: string): string {
  return escape(text)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
    .replace(/(^|\s)_([^_]+)_(?=[\s.,;:]|$)/g, '$1<em>$2</em>');
}

function cells(line: string): string[] {
  return line.replace(/^\|\s?/, '').replace(/\s?\|$/, '').split(/(?<!\\)\s\|\s/).map((c) => c.replace(/\\\|/g, '|'));
}

export function markdownToHtml(markdown: string): string {
  const out: string[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('|')) {
      const header = cells(line);
      i++; // the --- row
      const rows: string[][] = [];
      while (i + 1 < lines.length && lines[i + 1]!.startsWith('|')) rows.push(cells(lines[++i]!));
      out.push(
        `<table><thead><tr>${header.map((h) => `<th>${inline(h)}</th>`).join('')}</tr></thead><tbody>` +
          rows.map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join('')}</tr>`).join('') +
          '</tbody></table>',
      );
    } else if (/^#{1,6} /.test(line)) {
      const level = Math.min(6, line.indexOf(' ') + 1);
      out.push(`<h${level}>${inline(line.slice(line.indexOf(' ') + 1))}</h${level}>`);
    } else if (line.startsWith('> ')) {
      out.push(`<blockquote>${inline(line.slice(2))}</blockquote>`);
    } else if (line.trim() !== '') {
      out.push(`<p>${inline(line)}</p>`);
    }
  }
  return out.join('\n');
}

// Shows vigil's own Markdown (the post-incident review) as HTML on /status, with everything in it inert.
import { escapeHtml as escapeHTML } from './render.js';
import { Marked, type Tokens } from 'marked';

/**
 * The review quotes what probes and people wrote (evidence, notes, names), so raw HTML in it is shown
 * as text, and only http(s) and same-site links become links.
 */
const marked = new Marked({
  gfm: true,
  async: false,
  renderer: {
    html(token: Tokens.HTML | Tokens.Tag): string {
      return escapeHTML(token.text);
    },
    link(this: { parser: { parseInline(tokens: Tokens.Generic[]): string } }, token: Tokens.Link): string {
      const text = this.parser.parseInline(token.tokens);
      if (!/^(https?:\/\/|\/(?!\/))/i.test(token.href)) return text;
      return `<a href="${escapeHTML(token.href)}">${text}</a>`;
    },
    image(token: Tokens.Image): string {
      return escapeHTML(token.text);
    },
  },
});

export function markdownToHtml(markdown: string): string {
  return marked.parse(markdown) as string;
}

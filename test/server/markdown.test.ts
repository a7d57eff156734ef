// The review shown as HTML: vigil's Markdown becomes sections and tables; what people and probes wrote stays inert.
import t from 'tap';
import { markdownToHtml } from '../../src/server/views/markdown.js';

t.test('headings, tables, lists and code become HTML', async (t) => {
  const html = markdownToHtml('## Timeline\n\n| at | event |\n|---|---|\n| 03:07 | opened |\n\n- [ ] check the pool\n\n```text\nbackend | panic\n```\n');
  t.match(html, '<h2>Timeline</h2>');
  t.match(html, /<table>[\s\S]*<td>opened<\/td>/);
  t.match(html, /<li><input [^>]*type="checkbox"[^>]*> check the pool<\/li>/);
  t.match(html, /<pre><code class="language-text">backend \| panic\n<\/code><\/pre>/);
});

t.test('raw HTML, script links and images from notes or evidence are text', async (t) => {
  const html = markdownToHtml(
    'Note by <b onmouseover="x()">mallory</b>: <img src=x onerror=alert(1)>\n\n<script>alert(1)</script>\n\n[click](javascript:alert(1)) [ok](https://vigil.example/status) ![i](https://evil.example/p.png)\n',
  );
  t.notMatch(html, /<(b|img|script)\b/i, 'no element from the text');
  t.match(html, '&lt;b onmouseover=&quot;x()&quot;&gt;mallory&lt;/b&gt;');
  t.notMatch(html, /href="javascript:/i);
  t.match(html, 'click', 'a refused link keeps its words');
  t.match(html, '<a href="https://vigil.example/status">ok</a>');
});

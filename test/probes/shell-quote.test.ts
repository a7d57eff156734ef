// shellQuote against a real /bin/sh: whatever the value, the shell hands it over as one unchanged word.
import { execFileSync } from 'node:child_process';
import t from 'tap';
import { quoteCommandWords, shellQuote } from '../../src/probes/shell-quote.js';

const nasty = [
  'plain',
  '',
  "it's",
  "''",
  '/srv/my app; touch /tmp/vigil-pwned',
  '$(id) `id` $HOME ${PATH}',
  'a\nb\tc',
  '"double" \\back\\slash',
  '*?[a-z]~ & | > < ! #',
  'sächsisch ✓',
];

t.test('every value comes back from sh exactly as it went in', async (t) => {
  for (const value of nasty) {
    const out = execFileSync('/bin/sh', ['-c', `printf '%s' ${shellQuote(value)}`], { encoding: 'utf8' });
    t.equal(out, value, JSON.stringify(value));
  }
});

t.test('a command of several words is quoted word by word', async (t) => {
  t.equal(quoteCommandWords(' sudo  docker '), 'sudo docker', 'safe words need no quotes');
  const out = execFileSync('/bin/sh', ['-c', `${quoteCommandWords('printf %s;id')} x`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  t.equal(out, 'x;id', 'the ; stays inside the format word instead of running id');
});

t.test('refuses what no shell word can hold', async (t) => {
  t.throws(() => shellQuote('a\0b'), { code: 'VIGIL_ERR_SHELL_QUOTE' });
  t.throws(() => quoteCommandWords('   '), { code: 'VIGIL_ERR_SHELL_QUOTE' });
});

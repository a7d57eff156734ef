// Regenerates the generated parts of docs/: the command line (docs/cli.md) and the configuration
// reference between the markers of docs/configuration.md. Usage: npm run docs
import { readFileSync, writeFileSync } from 'node:fs';
import { cliReference } from '../src/cli.js';
import { configReference } from '../src/config/reference.js';

const START = '<!-- config-reference:start -->\n';
const END = '<!-- config-reference:end -->';

writeFileSync('docs/cli.md', cliReference());
const config = readFileSync('docs/configuration.md', 'utf8');
const from = config.indexOf(START) + START.length;
const to = config.indexOf(END);
if (from < START.length || to < from) throw new Error('docs/configuration.md lost its config-reference markers');
writeFileSync('docs/configuration.md', config.slice(0, from) + configReference() + config.slice(to));

// Command-line entry: parses arguments and hands over to commands/*; nothing else.
import { parseArgs } from 'node:util';
import { ackCommand } from './commands/ack.js';
import { checkCommand } from './commands/check.js';
import { demoCommand } from './commands/demo.js';
import { incidentsCommand } from './commands/incidents.js';
import { noteCommand } from './commands/note.js';
import { pushUrlCommand } from './commands/push-url.js';
import { resolveCommand } from './commands/resolve.js';
import { reviewCommand } from './commands/review.js';
import { runCommand } from './commands/run.js';
import { schemaCommand } from './commands/schema.js';
import { validateCommand } from './commands/validate.js';
import { VERSION } from './version.js';

export const EXIT_USAGE = 64;

const USAGE = `vigil ${VERSION} — watches a docker-compose fleet and runs its incident runbook

usage: vigil <command> [--config FILE]

commands:
  run                         the daemon (SIGTERM/SIGINT stop it, SIGHUP reloads the config)
  check [--json] [--only ID…] run every probe once now and print the triage report
  validate                    check the config and print every error at once
  incidents [--open] [--json] list incidents from the store
  ack ID --by NAME            acknowledge an incident (through the running daemon; $VIGIL_API_TOKEN)
  resolve ID --by NAME [--note TEXT]  resolve an incident by hand (through the running daemon)
  note ID --by NAME TEXT      add a note to an incident's timeline (through the running daemon)
  review ID                   print the incident's post-incident review as Markdown
  push-url ID                 print the curl line a cron job runs to send push probe ID's heartbeat
  demo [--speed N]            a simulated fleet with faults over time, watched by the daemon (npm start)
  schema [--markdown]         print the config's JSON Schema (or the reference table)

The config defaults to $VIGIL_CONFIG, else probes/local.yaml.
`;

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        json: { type: 'boolean', default: false },
        only: { type: 'string', multiple: true },
        open: { type: 'boolean', default: false },
        by: { type: 'string' },
        note: { type: 'string' },
        speed: { type: 'string' },
        markdown: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', short: 'v', default: false },
      },
    });
  } catch (err) {
    process.stderr.write(`vigil: ${(err as Error).message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  const { values, positionals } = parsed;
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return values.help ? 0 : EXIT_USAGE;
  }
  const configPath = values.config ?? process.env.VIGIL_CONFIG ?? 'probes/local.yaml';
  // `--only a b c` and `--only a --only b` both work: positionals after `check` are probe ids too.
  const only = [...(values.only ?? []), ...(command === 'check' ? rest : [])];
  switch (command) {
    case 'run':
      return runCommand(configPath);
    case 'check':
      return checkCommand(configPath, { json: values.json, only });
    case 'validate':
      return validateCommand(configPath);
    case 'incidents':
      return incidentsCommand(configPath, { open: values.open, json: values.json });
    case 'schema':
      return schemaCommand({ markdown: values.markdown });
    case 'demo':
      return demoCommand({ speed: values.speed });
    case 'ack':
      return ackCommand(configPath, { id: rest[0], by: values.by });
    case 'resolve':
      return resolveCommand(configPath, { id: rest[0], by: values.by, note: values.note });
    case 'note':
      return noteCommand(configPath, { id: rest[0], by: values.by, text: rest.slice(1) });
    case 'review':
      return reviewCommand(configPath, { id: rest[0] });
    case 'push-url':
      return pushUrlCommand(configPath, { id: rest[0] });
    default:
      process.stderr.write(`vigil: unknown command "${command}"\n\n${USAGE}`);
      return EXIT_USAGE;
  }
}

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
import { silenceCommand } from './commands/silence.js';
import { validateCommand } from './commands/validate.js';
import { VERSION } from './version.js';

/** EX_USAGE from sysexits.h. */
export const EXIT_USAGE = 64;

const CONFIG_OPTION = '  -c, --config FILE   the config file (default: $VIGIL_CONFIG, else probes/local.yaml)';
const WRITE_NOTE = 'Writes through the running daemon\'s API at server.listen, with the token from $VIGIL_API_TOKEN.';

/** What a command's words after its name mean. */
type Positionals =
  /** None, or one: the config file (the same as --config). */
  | 'config'
  /** Probe ids; a word with a "." or "/" in it is the config file. */
  | 'probe-ids'
  /** Exactly one incident id. */
  | 'id'
  /** An incident id, then the note's words. */
  | 'id-text'
  /** A subcommand, then its own words (silence add|list|expire ID). */
  | 'subcommand'
  | 'none';

interface Invocation {
  configPath: string;
  values: ParsedValues;
  words: string[];
}

interface CommandSpec {
  synopsis: string;
  summary: string;
  /** The options and exit codes, as `vigil help NAME` prints them. */
  help: string;
  positionals: Positionals;
  run(inv: Invocation): Promise<number>;
}

const COMMANDS: Record<string, CommandSpec> = {
  run: {
    synopsis: 'run [-c FILE]',
    summary: 'the daemon (SIGTERM/SIGINT stop it, SIGHUP reloads the config)',
    help: `${CONFIG_OPTION}

Runs the probes on their schedules, opens and resolves incidents, pages, and serves /status, /api and
/metrics on server.listen. SIGTERM or SIGINT stops it within 15 s; SIGHUP reloads the config (a bad
config is refused and the running one stays).

exit: 0 after a clean stop · 1 could not start (the reason is logged) · 78 bad config`,
    positionals: 'config',
    run: ({ configPath }) => runCommand(configPath),
  },
  check: {
    synopsis: 'check [-c FILE] [--json] [--only ID…]',
    summary: 'run every probe once now and print the triage report',
    help: `${CONFIG_OPTION}
  --json              print the report as JSON
  --only ID…          run only these probes (ids may also follow the command: vigil check ID ID)

Runs each probe once, without thresholds, and prints the results grouped by environment and
service, worst last. Failures that share one cause (an unreachable host or database) are shown once
with the probes they take down. A host presenting another key than the pinned one is marked
[possible interception] (stop and look); a host_key that holds no key is a config problem (exit 78).

exit: 0 all passed · 1 worst failure S3/S4 · 2 worst failure S1/S2 · 78 bad config`,
    positionals: 'probe-ids',
    run: ({ configPath, values, words }) => checkCommand(configPath, { json: values.json, only: [...(values.only ?? []), ...words] }),
  },
  validate: {
    synopsis: 'validate [-c FILE]',
    summary: 'check the config and print every problem at once',
    help: `${CONFIG_OPTION}

Loads the config as \`vigil run\` would, with its secrets, and prints every problem at once as
file:line:col key.path: what was expected.

exit: 0 valid · 78 bad config`,
    positionals: 'config',
    run: ({ configPath }) => validateCommand(configPath),
  },
  incidents: {
    synopsis: 'incidents [-c FILE] [--open] [--json]',
    summary: 'list incidents from the store',
    help: `${CONFIG_OPTION}
  --open              only incidents not yet resolved
  --json              print them as JSON

Reads the store named by store.path (or store.postgres); safe beside a running daemon. Needs only
the store (and its URL's variable), not the daemon's other secrets.

exit: 0 listed · 1 no store or an unreadable one · 78 bad config`,
    positionals: 'config',
    run: ({ configPath, values }) => incidentsCommand(configPath, { open: values.open, json: values.json }),
  },
  ack: {
    synopsis: 'ack ID --by NAME [-c FILE]',
    summary: 'acknowledge an incident (stops its reminders)',
    help: `${CONFIG_OPTION}
  --by NAME           who acknowledges (shown in #ops and the timeline)

${WRITE_NOTE}

exit: 0 done · 1 the daemon refused or could not be reached (its error is printed) · 64 usage`,
    positionals: 'id',
    run: ({ configPath, values, words }) => ackCommand(configPath, { id: words[0], by: values.by }),
  },
  resolve: {
    synopsis: 'resolve ID --by NAME [--note TEXT] [-c FILE]',
    summary: 'resolve an incident by hand',
    help: `${CONFIG_OPTION}
  --by NAME           who resolves it
  --note TEXT         a note for the timeline and the review

${WRITE_NOTE}

exit: 0 done · 1 the daemon refused or could not be reached · 64 usage`,
    positionals: 'id',
    run: ({ configPath, values, words }) => resolveCommand(configPath, { id: words[0], by: values.by, note: values.note }),
  },
  note: {
    synopsis: 'note ID --by NAME TEXT [-c FILE]',
    summary: "add a note to an incident's timeline",
    help: `${CONFIG_OPTION}
  --by NAME           who writes the note

${WRITE_NOTE}

exit: 0 done · 1 the daemon refused or could not be reached · 64 usage`,
    positionals: 'id-text',
    run: ({ configPath, values, words }) => noteCommand(configPath, { id: words[0], by: values.by, text: words.slice(1) }),
  },
  silence: {
    synopsis: 'silence add|list|expire …',
    summary: 'hold pages about matching incidents for a while, like a maintenance window',
    help: `  vigil silence add [--probe ID] [--service S] [--environment E] --for 2h --reason TEXT --by NAME
  vigil silence list [--all] [--json]
  vigil silence expire ID --by NAME

${CONFIG_OPTION}
  --probe ID, --service S, --environment E
                      what the silence matches (at least one; all given must match)
  --for DURATION      how long it holds, like 30m or 2h
  --reason TEXT       why (shown on /status and the timeline)
  --by NAME           who
  --all               list ended silences too
  --json              print the list as JSON

A matched incident is recorded but not paged; one still failing when the silence ends or is expired
pages then. ${WRITE_NOTE}

exit: 0 done · 1 the daemon refused or could not be reached · 64 usage`,
    positionals: 'subcommand',
    run: ({ configPath, values, words }) =>
      silenceCommand(configPath, {
        action: words[0],
        rest: words.slice(1),
        probe: values.probe,
        service: values.service,
        environment: values.environment,
        for: values.for,
        reason: values.reason,
        by: values.by,
        all: values.all,
        json: values.json,
      }),
  },
  'push-url': {
    synopsis: 'push-url ID [-c FILE]',
    summary: "print the curl line a cron job runs to send push probe ID's heartbeat",
    help: `${CONFIG_OPTION}

Prints \`curl -fsS -X POST '…/api/push/ID?token=…'\` with the probe's token (from its token_env or
token_file) and server.public_url (else server.listen). Add \`&status=fail&msg=…\` to report a failed
run at once.

exit: 0 printed · 1 not a push probe, or its token is not set · 78 bad config`,
    positionals: 'id',
    run: ({ configPath, words }) => pushUrlCommand(configPath, { id: words[0] }),
  },
  review: {
    synopsis: 'review ID [-c FILE]',
    summary: "print an incident's post-incident review as Markdown",
    help: `${CONFIG_OPTION}

Reads the store named by store.path (or store.postgres); needs only the store.

exit: 0 printed · 1 unknown incident or no store · 78 bad config`,
    positionals: 'id',
    run: ({ configPath, words }) => reviewCommand(configPath, { id: words[0] }),
  },
  demo: {
    synopsis: 'demo [--speed N]',
    summary: 'a simulated fleet with faults over time, watched by the daemon (npm start)',
    help: `  --speed N           run the fault timeline N times faster (default $VIGIL_DEMO_SPEED, else 1)

Starts an embedded PostgreSQL, an SSH host with a simulated docker, and HTTP services, injects
faults on a timeline and runs the real daemon against them, printing what #ops would get. Uses its
own config in a temporary directory; Ctrl-C stops everything.

exit: 0 after Ctrl-C · 1 the demo fleet could not start · 64 bad --speed`,
    positionals: 'none',
    run: ({ values }) => demoCommand({ speed: values.speed }),
  },
  schema: {
    synopsis: 'schema [--markdown]',
    summary: "print the config's JSON Schema (for editors), or the reference table",
    help: `  --markdown          print the configuration reference as a Markdown table instead

exit: 0`,
    positionals: 'none',
    run: ({ values }) => schemaCommand({ markdown: values.markdown }),
  },
  help: {
    synopsis: 'help [COMMAND]',
    summary: "print this list, or one command's options",
    help: 'exit: 0 · 64 unknown command',
    positionals: 'none',
    run: async () => 0,
  },
};

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  json: { type: 'boolean', default: false },
  only: { type: 'string', multiple: true },
  open: { type: 'boolean', default: false },
  by: { type: 'string' },
  note: { type: 'string' },
  speed: { type: 'string' },
  markdown: { type: 'boolean', default: false },
  probe: { type: 'string' },
  service: { type: 'string' },
  environment: { type: 'string' },
  for: { type: 'string' },
  reason: { type: 'string' },
  all: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  version: { type: 'boolean', short: 'v', default: false },
} as const;

type ParsedValues = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

export function usage(): string {
  const width = Math.max(...Object.values(COMMANDS).map((c) => c.synopsis.length)) + 2;
  const rows = Object.values(COMMANDS).map((c) => `  ${c.synopsis.padEnd(width)}${c.summary}`);
  return `vigil ${VERSION} — watches a docker-compose fleet and runs its incident runbook

usage: vigil <command> [options]

commands:
${rows.join('\n')}

The config defaults to $VIGIL_CONFIG, else probes/local.yaml. \`vigil help COMMAND\` or
\`vigil COMMAND --help\` prints a command's options and exit codes.
`;
}

export function commandHelp(name: string): string | null {
  const spec = COMMANDS[name];
  if (!spec) return null;
  return `usage: vigil ${spec.synopsis}

${spec.summary}

${spec.help}
`;
}

/** docs/cli.md: every command's help, as `vigil help NAME` prints it (a test keeps the file current). */
export function cliReference(): string {
  const sections = Object.keys(COMMANDS)
    .filter((name) => name !== 'help')
    .map((name) => `## vigil ${name}\n\n\`\`\`\n${commandHelp(name)}\`\`\`\n`);
  return `# The command line

\`vigil <command> [options]\`. The config is \`-c FILE\` / \`--config FILE\`, or a path given after the
command (\`vigil validate my.yaml\`), else \`$VIGIL_CONFIG\`, else \`probes/local.yaml\`. \`vigil help COMMAND\`
and \`vigil COMMAND --help\` print what is below. Exit codes follow sysexits.h: 64 is a usage error,
78 a bad config.

${sections.join('\n')}`;
}

class UsageError extends Error {
  readonly code = 'VIGIL_ERR_USAGE';
}

/** Splits the words after the command into the config path and the command's own words. */
function readPositionals(name: string, spec: CommandSpec, words: string[], configOption: string | undefined): { config?: string; words: string[] } {
  const isPath = (w: string) => /[./]/.test(w);
  const oneConfig = (paths: string[]): string | undefined => {
    if (paths.length > 1) throw new UsageError(`"${name}" takes one config file, got ${paths.map((p) => JSON.stringify(p)).join(' and ')}`);
    if (paths.length === 1 && configOption !== undefined) {
      throw new UsageError(`the config is given twice: --config ${JSON.stringify(configOption)} and ${JSON.stringify(paths[0])}`);
    }
    return paths[0];
  };
  switch (spec.positionals) {
    case 'none':
      if (words.length > 0) throw new UsageError(`"${name}" takes no arguments, got ${JSON.stringify(words.join(' '))}`);
      return { words: [] };
    case 'config':
      return { config: oneConfig(words), words: [] };
    case 'probe-ids':
      return { config: oneConfig(words.filter(isPath)), words: words.filter((w) => !isPath(w)) };
    case 'id':
      if (words.length > 1) throw new UsageError(`"${name}" takes one incident id, got ${JSON.stringify(words.join(' '))} (the config goes after -c)`);
      return { words };
    case 'id-text':
    case 'subcommand':
      return { words };
  }
}

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  } catch (err) {
    process.stderr.write(`vigil: ${(err as Error).message}\n\n${usage()}`);
    return EXIT_USAGE;
  }
  const { values, positionals } = parsed;
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const [name, ...words] = positionals;
  if (!name) {
    process.stdout.write(usage());
    return values.help ? 0 : EXIT_USAGE;
  }
  if (name === 'help' || values.help) {
    const topic = name === 'help' ? words[0] : name;
    if (topic === undefined) {
      process.stdout.write(usage());
      return 0;
    }
    const text = commandHelp(topic);
    if (text === null) {
      process.stderr.write(`vigil: unknown command "${topic}"\n\n${usage()}`);
      return EXIT_USAGE;
    }
    process.stdout.write(text);
    return 0;
  }
  const spec = COMMANDS[name];
  if (!spec) {
    process.stderr.write(`vigil: unknown command "${name}"\n\n${usage()}`);
    return EXIT_USAGE;
  }
  let args;
  try {
    args = readPositionals(name, spec, words, values.config);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`vigil ${name}: ${err.message}\n\n${commandHelp(name)}`);
    return EXIT_USAGE;
  }
  const configPath = args.config ?? values.config ?? process.env.VIGIL_CONFIG ?? 'probes/local.yaml';
  return spec.run({ configPath, values, words: args.words });
}

// `vigil silence add|list|expire`: silences through the running daemon's API (writes need $VIGIL_API_TOKEN).
import type { SilenceJson } from '../server/routes/silences.js';
import { EXIT_CONFIG, loadOrReport } from './config.js';
import { apiToken, callApi, EXIT_USAGE, type ApiAnswer } from './incident-api.js';

const USAGE = `usage: vigil silence add [--probe ID] [--service S] [--environment E] --for 2h --reason TEXT --by NAME
       vigil silence list [--all] [--json]
       vigil silence expire ID --by NAME
`;

export interface SilenceArgs {
  action: string | undefined;
  rest: string[];
  probe?: string | undefined;
  service?: string | undefined;
  environment?: string | undefined;
  for?: string | undefined;
  reason?: string | undefined;
  by?: string | undefined;
  all?: boolean;
  json?: boolean;
}

function matchersText(m: SilenceJson['matchers']): string {
  return (['probe', 'service', 'environment'] as const).flatMap((k) => (m[k] === undefined ? [] : [`${k}=${m[k]}`])).join(', ');
}

export function silenceLine(s: SilenceJson): string {
  const end = s.state === 'active' ? `until ${s.ends_at}` : `ended ${s.ends_at}${s.expired_by ? ` (expired by ${s.expired_by})` : ''}`;
  return `#${s.id} ${matchersText(s.matchers)} · ${s.reason} · by ${s.by} · ${end}`;
}

function fail(answer: Extract<ApiAnswer, { ok: false }>): number {
  process.stderr.write(`vigil: ${answer.message}${answer.status === null ? '' : ` (HTTP ${answer.status} ${answer.code})`}\n`);
  return 1;
}

export async function silenceCommand(path: string, args: SilenceArgs): Promise<number> {
  const usage = (why: string) => {
    process.stderr.write(`vigil silence: ${why}\n${USAGE}`);
    return EXIT_USAGE;
  };
  switch (args.action) {
    case 'add': {
      const matchers = Object.fromEntries((['probe', 'service', 'environment'] as const).flatMap((k) => (args[k] ? [[k, args[k]]] : [])));
      if (Object.keys(matchers).length === 0) return usage('name what to silence: --probe, --service and/or --environment');
      if (!args.for || !args.reason || !args.by) return usage('--for, --reason and --by are required');
      const config = loadOrReport(path);
      if (!config) return EXIT_CONFIG;
      const answer = await callApi(config, 'POST', '/api/silences', { matchers, duration: args.for, reason: args.reason, by: args.by }, apiToken(config));
      if (!answer.ok) return fail(answer);
      process.stdout.write(`silence ${silenceLine(answer.json as SilenceJson)}\n`);
      return 0;
    }
    case 'list': {
      const config = loadOrReport(path);
      if (!config) return EXIT_CONFIG;
      const answer = await callApi(config, 'GET', `/api/silences${args.all ? '?state=all' : ''}`, null, apiToken(config));
      if (!answer.ok) return fail(answer);
      const { silences } = answer.json as { silences: SilenceJson[] };
      if (args.json) process.stdout.write(`${JSON.stringify(silences, null, 2)}\n`);
      else if (silences.length === 0) process.stdout.write(args.all ? 'no silences\n' : 'no silences in force\n');
      else process.stdout.write(silences.map((s) => `${silenceLine(s)}\n`).join(''));
      return 0;
    }
    case 'expire': {
      const id = args.rest[0];
      if (id === undefined || !/^[1-9][0-9]{0,14}$/.test(id) || !args.by) return usage('expire takes a silence id and --by NAME');
      const config = loadOrReport(path);
      if (!config) return EXIT_CONFIG;
      const answer = await callApi(config, 'DELETE', `/api/silences/${id}`, { by: args.by }, apiToken(config));
      if (!answer.ok) return fail(answer);
      process.stdout.write(`expired ${silenceLine(answer.json as SilenceJson)}\n`);
      return 0;
    }
    default:
      return usage(args.action === undefined ? 'expected add, list or expire' : `unknown action "${args.action}"`);
  }
}

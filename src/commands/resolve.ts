// `vigil resolve ID --by NAME [--note T]`: resolves an incident by hand through the running daemon's API.
import { EXIT_CONFIG, loadOrReport } from './config.js';
import { apiToken, describeIncident, EXIT_USAGE, incidentId, postIncidentWrite, report } from './incident-api.js';

export async function resolveCommand(
  path: string,
  args: { id: string | undefined; by: string | undefined; note: string | undefined },
): Promise<number> {
  const id = incidentId(args.id);
  if (id === null || !args.by) {
    process.stderr.write('usage: vigil resolve ID --by NAME [--note TEXT]\n');
    return EXIT_USAGE;
  }
  const config = loadOrReport(path);
  if (!config) return EXIT_CONFIG;
  const body: Record<string, string> = { by: args.by };
  if (args.note !== undefined) body.note = args.note;
  const answer = await postIncidentWrite(config, id, 'resolve', body, apiToken(config));
  return report(answer, (i) => `${describeIncident(i)}: resolved by ${args.by}.`);
}

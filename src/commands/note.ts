// `vigil note ID --by NAME TEXT`: adds a note to an incident's timeline through the running daemon's API.
import { EXIT_CONFIG, loadOrReport } from './config.js';
import { apiToken, describeIncident, EXIT_USAGE, incidentId, postIncidentWrite, report } from './incident-api.js';

export async function noteCommand(path: string, args: { id: string | undefined; by: string | undefined; text: string[] }): Promise<number> {
  const id = incidentId(args.id);
  const text = args.text.join(' ').trim();
  if (id === null || !args.by || text === '') {
    process.stderr.write('usage: vigil note ID --by NAME TEXT\n');
    return EXIT_USAGE;
  }
  const config = loadOrReport(path);
  if (!config) return EXIT_CONFIG;
  const answer = await postIncidentWrite(config, id, 'notes', { by: args.by, text }, apiToken(config));
  return report(answer, (i) => `${describeIncident(i)}: note by ${args.by} added.`);
}

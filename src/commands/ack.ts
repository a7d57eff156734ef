// `vigil ack ID --by NAME`: acknowledges an incident through the running daemon's API (stops its reminders).
import { EXIT_CONFIG, loadOrReport } from './config.js';
import { apiToken, describeIncident, EXIT_USAGE, incidentId, postIncidentWrite, report } from './incident-api.js';

export async function ackCommand(path: string, args: { id: string | undefined; by: string | undefined }): Promise<number> {
  const id = incidentId(args.id);
  if (id === null || !args.by) {
    process.stderr.write('usage: vigil ack ID --by NAME\n');
    return EXIT_USAGE;
  }
  const config = loadOrReport(path);
  if (!config) return EXIT_CONFIG;
  const answer = await postIncidentWrite(config, id, 'ack', { by: args.by }, apiToken(config));
  return report(answer, (i) => `${describeIncident(i)}: acknowledged by ${i.acknowledged_by ?? args.by}.`);
}

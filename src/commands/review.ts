// `vigil review ID`: prints an incident's post-incident review as Markdown, from the store (no daemon needed).
import { reviewOf } from '../server/routes/review.js';
import { scrubSecrets, secretsOf } from '../server/serialize.js';
import { storeLabel } from '../store/configured.js';
import { EXIT_CONFIG, loadForReading, openExistingStore, readStore } from './config.js';
import { EXIT_USAGE, incidentId } from './incident-api.js';

export async function reviewCommand(path: string, args: { id: string | undefined }, now: () => number = Date.now): Promise<number> {
  const id = incidentId(args.id);
  if (id === null) {
    process.stderr.write('usage: vigil review ID\n');
    return EXIT_USAGE;
  }
  const config = loadForReading(path);
  if (!config) return EXIT_CONFIG;
  const store = openExistingStore(config);
  if (!store) return 1;
  const found = readStore(store, storeLabel(config.store), (s) => ({ incident: s.getIncident(id) }));
  if (!found) return 1;
  if (!found.incident) {
    process.stderr.write(`vigil: no incident ${id} in ${storeLabel(config.store)}\n`);
    return 1;
  }
  // Evidence and notes may quote a secret: scrubbed like the API's review.
  process.stdout.write(scrubSecrets(reviewOf(found.incident, config, now()), secretsOf(config)));
  return 0;
}

// `vigil validate`: loads the config like `run` would and reports every problem at once.
import { plural } from '../plural.js';
import { EXIT_CONFIG, loadOrReport } from './config.js';

export async function validateCommand(path: string): Promise<number> {
  const config = loadOrReport(path);
  if (!config) return EXIT_CONFIG;
  const counts = [
    plural(config.probes.length, 'probe'),
    plural(Object.keys(config.environments).length, 'environment'),
    plural(Object.keys(config.hosts).length, 'host'),
    plural(Object.keys(config.databases).length, 'database'),
  ];
  process.stdout.write(`${path}: OK — ${counts.join(', ')}\n`);
  return 0;
}

// `vigil validate`: loads the config like `run` would and reports every problem at once.
import { EXIT_CONFIG, loadOrReport } from './config.js';

export async function validateCommand(path: string): Promise<number> {
  const config = loadOrReport(path);
  if (!config) return EXIT_CONFIG;
  const envs = Object.keys(config.environments).length;
  process.stdout.write(
    `${path}: OK — ${config.probes.length} probes, ${envs} environments, ${Object.keys(config.hosts).length} hosts, ${Object.keys(config.databases).length} databases\n`,
  );
  return 0;
}

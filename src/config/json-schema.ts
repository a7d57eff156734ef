// The config's JSON Schema for editors (`vigil schema`): the YAML an operator writes, not the values vigil derives from it.
import { z } from 'zod';
import { configSchema } from './schema.js';

/**
 * `io: 'input'` describes what is written (durations as "30s" strings, defaults as written); refinements
 * such as "interval or schedule" and all cross-references cannot be expressed and stay `vigil validate`'s job.
 */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' });
  return {
    ...schema,
    $id: 'https://github.com/vigil/vigil/config.schema.json',
    title: 'vigil config',
    description: 'A fleet for vigil to watch: environments, hosts, databases, alerts and probes. Secrets are named by *_env / *_file, never written here.',
  };
}

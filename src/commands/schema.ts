// `vigil schema`: prints the config's JSON Schema (for editors), or with --markdown the reference table.
import { configJsonSchema } from '../config/json-schema.js';
import { configReference } from '../config/reference.js';

export async function schemaCommand(opts: { markdown: boolean } = { markdown: false }): Promise<number> {
  process.stdout.write(opts.markdown ? configReference() : `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
  return 0;
}

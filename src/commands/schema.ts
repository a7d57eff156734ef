// `vigil schema`: prints the config's JSON Schema, for editors' completion and validation.
import { configJsonSchema } from '../config/json-schema.js';

export async function schemaCommand(): Promise<number> {
  process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
  return 0;
}

// `vigil schema`'s output: valid JSON Schema for the YAML an operator writes, covering every probe type.
import t from 'tap';
import { configJsonSchema } from '../../src/config/json-schema.js';

t.test('the config JSON Schema is plain JSON and names every probe type', async (t) => {
  const schema = JSON.parse(JSON.stringify(configJsonSchema())) as Record<string, unknown>;
  t.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
  t.equal(schema.type, 'object');
  t.equal(schema.additionalProperties, false, 'unknown top-level keys are refused for editors too');
  t.same(schema.required, ['environments']);
  const text = JSON.stringify(schema);
  for (const type of ['http', 'compose_ps', 'compose_logs', 'pg_ready', 'pg_connections', 'pg_long_queries', 'pg_query']) {
    t.ok(text.includes(`"const":"${type}"`), `probe type ${type}`);
  }
});

t.test('durations are described as written, not as the milliseconds they become', async (t) => {
  const schema = configJsonSchema() as { properties: { defaults: { properties: Record<string, { type?: string; default?: unknown }> } } };
  t.same(schema.properties.defaults.properties.interval, { type: 'string', default: '30s' });
  t.same(schema.properties.defaults.properties.timeout, { type: 'string', default: '10s' });
});

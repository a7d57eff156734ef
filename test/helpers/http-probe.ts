// An http probe as the config loader hands it over: the raw YAML shape parsed by the real schema.
import { httpProbe as httpProbeSchema } from '../../src/config/schema.js';
import type { HttpProbe } from '../../src/probes/http.js';
import { meta } from '../incidents/fixtures.js';

export function probeFor(raw: Record<string, unknown>, over: Partial<HttpProbe> = {}): HttpProbe {
  const spec = httpProbeSchema.parse({ id: 'api-health', type: 'http', ...raw });
  return { ...meta('api-health', { severity: 'S2', summary: 'Backend API down', timeoutMs: 2_000 }), headers: {}, ...over, spec };
}

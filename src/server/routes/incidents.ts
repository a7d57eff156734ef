// /api/incidents: list and read from the store; ack, resolve and note through the engine's dispatch.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Command } from '../../incidents/state.js';
import type { Incident } from '../../types.js';
import type { AppDeps, CommandAnswer } from '../deps.js';
import { requireWriteToken } from '../auth.js';
import { readIncident, readIncidents } from '../memory-reads.js';
import { ApiError, incidentJson } from '../serialize.js';

export const DEFAULT_LIST_LIMIT = 50;
export const MAX_LIST_LIMIT = 500;

const idParams = z.object({
  id: z.string().regex(/^[1-9][0-9]{0,14}$/, { error: 'expected an incident id: a positive whole number' }).transform(Number),
});

const listQuery = z.object({
  state: z.enum(['open', 'resolved'], { error: 'expected "open" or "resolved"' }).optional(),
  limit: z
    .string()
    .regex(/^[0-9]{1,6}$/, { error: `expected a whole number from 1 to ${MAX_LIST_LIMIT}` })
    .transform(Number)
    .refine((n) => n >= 1 && n <= MAX_LIST_LIMIT, { error: `expected a whole number from 1 to ${MAX_LIST_LIMIT}` })
    .optional(),
});

// Names end up in Discord messages and reviews: printable text only, and short.
export const by = z
  .string({ error: 'expected the name of who is acting, e.g. "alice"' })
  .trim()
  .min(1, { error: 'expected a non-empty name' })
  .max(100, { error: 'expected a name of at most 100 characters' })
  .regex(/^[^\u0000-\u001f\u007f]+$/, { error: 'expected a name without control characters' });
export const text = z
  .string({ error: 'expected text' })
  .trim()
  .min(1, { error: 'expected non-empty text' })
  .max(4000, { error: 'expected at most 4000 characters' });

const ackBody = z.strictObject({ by });
const resolveBody = z.strictObject({ by, note: text.optional() });
const noteBody = z.strictObject({ by, text });

export function parse<T>(schema: z.ZodType<T>, input: unknown, where: string): T {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const message = result.error.issues
    .map((issue) => `${[where, ...issue.path.map(String)].join('.')}: ${issue.message}`)
    .join('; ');
  throw new ApiError(400, 'bad_request', message);
}

function answer(result: CommandAnswer, stored: () => Incident | null, now: number) {
  if (result.ok) return incidentJson(result.incident, now);
  if (result.code === 'not_found') {
    // The engine holds only active and recently resolved incidents; one resolved longer ago is in the
    // store, and its state (not its absence) is what refuses the command (docs/http-api.md: 409, not 404).
    const incident = stored();
    if (incident) throw new ApiError(409, 'conflict', `incident ${incident.id} is already ${incident.state}`);
    throw new ApiError(404, result.code, result.message);
  }
  throw new ApiError(409, result.code, result.message);
}

export function incidentRoutes(app: FastifyInstance, deps: Pick<AppDeps, 'config' | 'store' | 'dispatch' | 'engineState'>, now: () => number): void {
  app.get('/api/incidents', async (request) => {
    const query = parse(listQuery, request.query, 'query');
    const incidents = readIncidents(deps, { ...(query.state ? { state: query.state } : {}), limit: query.limit ?? DEFAULT_LIST_LIMIT });
    const at = now();
    return { incidents: incidents.map((i) => incidentJson(i, at)) };
  });

  app.get('/api/incidents/:id', async (request) => {
    const { id } = parse(idParams, request.params, 'params');
    const incident = readIncident(deps, id);
    if (!incident) throw new ApiError(404, 'not_found', `no incident ${id}`);
    return incidentJson(incident, now());
  });

  const onRequest = requireWriteToken(() => deps.config.server.apiToken);
  const write = (path: string, command: (id: number, body: unknown) => Command) => {
    app.post(path, { onRequest }, async (request) => {
      const { id } = parse(idParams, request.params, 'params');
      return answer(await deps.dispatch(command(id, request.body)), () => readIncident(deps, id), now());
    });
  };

  write('/api/incidents/:id/ack', (incidentId, body) => ({ type: 'ack', incidentId, ...parse(ackBody, body, 'body') }));
  write('/api/incidents/:id/resolve', (incidentId, body) => {
    const { by, note } = parse(resolveBody, body, 'body');
    return note === undefined ? { type: 'resolve', incidentId, by } : { type: 'resolve', incidentId, by, note };
  });
  write('/api/incidents/:id/notes', (incidentId, body) => ({ type: 'note', incidentId, ...parse(noteBody, body, 'body') }));
}

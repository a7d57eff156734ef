// GET/POST /act/{token}: the page an alert's "Acknowledge" button opens; acts through the engine like the API.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { verifyActionToken, type ActionVerdict } from '../../action-token.js';
import type { Command, CommandResult } from '../../incidents/state.js';
import type { Incident } from '../../types.js';
import type { AppDeps } from '../deps.js';
import { BODY_LIMIT_BYTES } from '../deps.js';
import { readIncident } from '../memory-reads.js';
import { timeView } from '../views/format.js';
import { incidentView } from '../views/model.js';
import { by, text } from './incidents.js';
import { sendPage } from './status-page.js';

/** The cookie that remembers who is acting, so a phone fills the name in next time. */
export const NAME_COOKIE = 'vigil_name';
const NAME_COOKIE_MAX_AGE_S = 365 * 86_400;

type ActDeps = Pick<AppDeps, 'config' | 'store' | 'dispatch' | 'engineState'>;

const form = z.object({
  action: z.enum(['ack', 'resolve', 'note'], { error: 'Choose Acknowledge, Resolve or Add note.' }),
  incident: z.string().regex(/^[1-9][0-9]{0,14}$/, { error: 'The form is incomplete; reload the page.' }).transform(Number),
  by,
  text: z.string().optional(),
});

const DENIED: Record<Exclude<ActionVerdict, { ok: true }>['reason'], string> = {
  malformed: 'This is not a vigil action link: it is incomplete or was changed. Copy the whole link from the alert.',
  forged: 'This link was not signed by this vigil, or it was changed after it was sent.',
  expired: 'This link has expired: action links work for 24 hours after the alert was sent.',
  other_incident: 'This link was made for another incident than the one this form is about.',
};

function readNameCookie(request: FastifyRequest): string {
  const header = request.headers.cookie ?? '';
  for (const part of header.split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key !== NAME_COOKIE) continue;
    try {
      return decodeURIComponent(value.join('='));
    } catch {
      return '';
    }
  }
  return '';
}

function nameCookie(name: string, publicUrl: string | null): string {
  const secure = publicUrl?.startsWith('https:') ? '; Secure' : '';
  return `${NAME_COOKIE}=${encodeURIComponent(name)}; Path=/act; Max-Age=${NAME_COOKIE_MAX_AGE_S}; HttpOnly; SameSite=Lax${secure}`;
}

/** The same words for a refusal the API gives (409 for a state that forbids it, 404 for no such incident). */
function refusal(result: Extract<CommandResult, { ok: false }>, incident: Incident): string {
  if (result.code === 'not_found') return `Incident #${incident.id} is ${incident.state} and no longer takes changes here.`;
  return `Nothing done: ${result.message}.`;
}

export function actRoutes(app: FastifyInstance, deps: ActDeps, now: () => number): void {
  // A browser form's body; scoped to these routes, so the JSON API still speaks JSON only.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  const deny = (reply: FastifyReply, verdict: Exclude<ActionVerdict, { ok: true }>) =>
    sendPage(deps, reply, 403, 'denied', { title: 'Link not valid · vigil', refreshSeconds: null }, { heading: 'This link is not valid', message: DENIED[verdict.reason], generated: timeView(now(), now()) });

  const secret = (reply: FastifyReply): string | null => {
    const key = deps.config.server.actionSecret;
    if (!key) {
      void sendPage(deps, reply, 404, 'not-found', { title: 'Not found · vigil', refreshSeconds: null }, { message: 'Action links are not enabled on this vigil (server.action_secret_env).', generated: timeView(now(), now()) });
      return null;
    }
    return key;
  };

  const page = (reply: FastifyReply, status: number, token: string, incident: Incident, expiresAt: number, extra: { name: string; text?: string; problem?: string }) => {
    const at = now();
    return sendPage(
      deps,
      reply,
      status,
      'act',
      { title: `Act on #${incident.id} ${incident.severity} ${incident.summary} · vigil`, refreshSeconds: null },
      {
        incident: incidentView(incident, at),
        formAction: `/act/${token}`,
        name: extra.name,
        text: extra.text ?? '',
        problem: extra.problem ?? null,
        // A note on a resolved incident still reaches the engine while it remembers the incident.
        canNote: incident.state !== 'resolved' || deps.engineState().incidents.has(incident.id),
        expires: timeView(expiresAt, at),
        generated: timeView(at, at),
      },
    );
  };

  const missing = (reply: FastifyReply, id: number) =>
    sendPage(deps, reply, 404, 'not-found', { title: 'Not found · vigil', refreshSeconds: null }, { message: `There is no incident ${id}.`, generated: timeView(now(), now()) });

  app.get<{ Params: { token: string } }>('/act/:token', async (request, reply) => {
    const key = secret(reply);
    if (key === null) return reply;
    const verdict = verifyActionToken(key, request.params.token, { now: now() });
    if (!verdict.ok) return deny(reply, verdict);
    const incident = readIncident(deps, verdict.incidentId);
    if (!incident) return missing(reply, verdict.incidentId);
    return page(reply, 200, request.params.token, incident, verdict.expiresAt, { name: readNameCookie(request) });
  });

  app.post<{ Params: { token: string } }>('/act/:token', async (request, reply) => {
    const key = secret(reply);
    if (key === null) return reply;
    const token = request.params.token;
    // The token is checked before the form is read: a refused link learns nothing from validation.
    const bare = verifyActionToken(key, token, { now: now() });
    if (!bare.ok) return deny(reply, bare);
    const body = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as Record<string, unknown>;
    const incidentField = typeof body.incident === 'string' && /^[1-9][0-9]{0,14}$/.test(body.incident) ? Number(body.incident) : bare.incidentId;
    const verdict = verifyActionToken(key, token, { now: now(), incidentId: incidentField });
    if (!verdict.ok) return deny(reply, verdict);
    const incident = readIncident(deps, verdict.incidentId);
    if (!incident) return missing(reply, verdict.incidentId);

    const name = typeof body.by === 'string' ? body.by : '';
    const note = typeof body.text === 'string' ? body.text : '';
    const parsed = form.safeParse(body);
    if (!parsed.success) {
      const problem = parsed.error.issues.map((i) => (i.path[0] === 'by' ? `Your name: ${i.message}.` : i.message)).join(' ');
      return page(reply, 400, token, incident, verdict.expiresAt, { name, text: note, problem });
    }
    const trimmed = note.trim();
    const textCheck = trimmed === '' ? null : text.safeParse(trimmed);
    if (textCheck && !textCheck.success) return page(reply, 400, token, incident, verdict.expiresAt, { name, text: note, problem: `Note: ${textCheck.error.issues[0]?.message}.` });
    const who = parsed.data.by;
    let cmd: Command;
    if (parsed.data.action === 'ack') cmd = { type: 'ack', incidentId: incident.id, by: who };
    else if (parsed.data.action === 'resolve') cmd = trimmed === '' ? { type: 'resolve', incidentId: incident.id, by: who } : { type: 'resolve', incidentId: incident.id, by: who, note: trimmed };
    else if (trimmed === '') return page(reply, 400, token, incident, verdict.expiresAt, { name, problem: 'Write the note first, then press Add note.' });
    else cmd = { type: 'note', incidentId: incident.id, by: who, text: trimmed };

    const result = await deps.dispatch(cmd);
    reply.header('set-cookie', nameCookie(who, deps.config.server.publicUrl));
    if (!result.ok) {
      const current = readIncident(deps, incident.id) ?? incident;
      return page(reply, 409, token, current, verdict.expiresAt, { name: who, text: note, problem: refusal(result, current) });
    }
    request.log.info({ incident_id: incident.id, action: parsed.data.action, by: who }, `incident #${incident.id}: ${parsed.data.action} from an action link`);
    return reply.code(303).header('location', `/status/incidents/${incident.id}`).send();
  });
}

// GET /status and /status/incidents/:id: server-rendered HTML for humans, under a strict Content-Security-Policy.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AppDeps } from '../deps.js';
import { secretsOf, scrubSecrets } from '../serialize.js';
import { incidentView, REFRESH_SECONDS, statusPageModel } from '../views/model.js';
import { escapeHtml, renderPage, type PageChrome, type PageName } from '../views/render.js';
import { timeView } from '../views/format.js';
import { uptimeSince } from '../views/uptime.js';
import { markdownToHtml } from '../views/markdown.js';
import { reviewOf } from './review.js';
import { acceptsGzip, GzipWithSlots } from '../gzip-kept.js';
import { RenderCache } from '../render-cache.js';
import { storeLabel } from '../../store/configured.js';
import { undelivered, type KeptRendering } from './status.js';
import { readIncident, storedPart } from '../memory-reads.js';

/** Resolved incidents listed under "Recently resolved". */
export const RECENT_RESOLVED = 10;

const ID = /^[1-9][0-9]{0,14}$/;

/**
 * No script may run on these pages at all: they have none, so text from a probe that slipped past
 * escaping still could not execute. The one inline <style> carries a per-response nonce.
 */
export function contentSecurityPolicy(nonce: string, opts: { forms?: boolean } = {}): string {
  return [
    "default-src 'none'",
    `style-src 'nonce-${nonce}'`,
    'img-src data:',
    "base-uri 'none'",
    // Only the action page has a form, and it posts back to vigil itself.
    opts.forms ? "form-action 'self'" : "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

type PageDeps = Pick<AppDeps, 'config' | 'store' | 'engineState' | 'lastChecked'>;

/**
 * A rendered page, split where each response's own nonce goes. A page kept for many responses holds
 * its parts as bytes, encoded and scrubbed of secrets once (the app's onSend hook scrubs strings only).
 */
export interface RenderedPage {
  name: PageName;
  parts: string[] | Buffer[];
  /** Compressed on the first request that accepts gzip, then spliced per response. */
  gzip?: () => GzipWithSlots;
}

/** Stands in for the nonce in a rendering kept for several responses; random, so no page text can forge it. */
const NONCE_SLOT = randomBytes(18).toString('base64url');

export function renderHtml(deps: Pick<AppDeps, 'config'>, name: PageName, page: Omit<PageChrome, 'nonce'>, data: object): RenderedPage {
  const html = renderPage(name, { ...page, nonce: NONCE_SLOT }, data);
  // The app's onSend hook scrubs secrets as they read raw and in JSON; in HTML a secret with & < > " '
  // reads escaped, so its escaped form is scrubbed here.
  const escaped = secretsOf(deps.config)
    .map(escapeHtml)
    .filter((s, i, all) => all.indexOf(s) === i);
  return { name, parts: scrubSecrets(html, escaped).split(NONCE_SLOT) };
}

/** The page as bytes to keep: `scrub` is the app's own secret scrubber, which bytes no longer pass through. */
export function keptPage(page: RenderedPage, scrub: (text: string) => string): RenderedPage {
  const parts = scrub(page.parts.map(String).join(NONCE_SLOT))
    .split(NONCE_SLOT)
    .map((part) => Buffer.from(part));
  let gzip: GzipWithSlots | undefined;
  return { name: page.name, parts, gzip: () => (gzip ??= new GzipWithSlots(parts)) };
}

function withNonce(parts: RenderedPage['parts'], nonce: string): string | Buffer {
  const first = parts[0];
  if (typeof first === 'string' || first === undefined) return (parts as string[]).join(nonce);
  const slot = Buffer.from(nonce);
  return Buffer.concat((parts as Buffer[]).flatMap((part, i) => (i === 0 ? [part] : [slot, part])));
}

/** `acceptEncoding`: the request's Accept-Encoding, for a kept page that can answer gzip. */
export function sendRendered(reply: FastifyReply, status: number, page: RenderedPage, acceptEncoding?: string | string[]) {
  const nonce = randomBytes(16).toString('base64');
  reply
    .code(status)
    .header('content-security-policy', contentSecurityPolicy(nonce, { forms: page.name === 'act' }))
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .type('text/html; charset=utf-8');
  if (!page.gzip) return reply.send(withNonce(page.parts, nonce));
  reply.header('vary', 'accept-encoding');
  if (!acceptsGzip(acceptEncoding)) return reply.send(withNonce(page.parts, nonce));
  return reply.header('content-encoding', 'gzip').send(page.gzip().fill(Buffer.from(nonce)));
}

export function sendPage(deps: Pick<AppDeps, 'config'>, reply: FastifyReply, status: number, name: PageName, page: Omit<PageChrome, 'nonce'>, data: object) {
  return sendRendered(reply, status, renderHtml(deps, name, page, data));
}

export function statusPageRoutes(app: FastifyInstance, deps: PageDeps, now: () => number, kept: KeptRendering): void {
  const cache = new RenderCache<RenderedPage>();
  app.get('/status', async (request, reply) => {
    const at = now();
    return sendRendered(reply, 200, cache.get(kept.key(), at, () => keptPage(renderStatusPage(deps, at), kept.scrub)), request.headers['accept-encoding']);
  });

  app.get<{ Params: { id: string } }>('/status/incidents/:id', async (request, reply) => {
    const at = now();
    const generated = timeView(at, at);
    const raw = request.params.id;
    const incident = ID.test(raw) ? readIncident(deps, Number(raw)) : null;
    if (!incident) {
      const message = ID.test(raw) ? `There is no incident ${raw}.` : `"${raw}" is not an incident number.`;
      return sendPage(deps, reply, 404, 'not-found', { title: 'Not found · vigil', refreshSeconds: null }, { message, generated });
    }
    const view = incidentView(incident, at);
    // An incident still open keeps changing; a resolved one does not, so only the former refreshes.
    const refreshSeconds = incident.state === 'resolved' ? null : REFRESH_SECONDS;
    // The same draft as GET /api/incidents/:id/review and `vigil review`, shown as HTML sections.
    const review = reviewOf(incident, deps.config, at);
    return sendPage(deps, reply, 200, 'incident', { title: `#${incident.id} ${incident.severity} ${incident.summary} · vigil`, refreshSeconds }, { incident: view, review: markdownToHtml(review), generated, actionLinks: Boolean(deps.config.server.actionSecret && deps.config.server.publicUrl) });
  });
}

function renderStatusPage(deps: PageDeps, at: number): RenderedPage {
  // While the store cannot be read the page shows what the daemon holds in memory (services, open
  // incidents) and says what is missing, rather than nothing at all.
  const uptimeRows = storedPart(() => deps.store.uptime(uptimeSince(at)));
  const resolved = storedPart(() => deps.store.listIncidents({ state: 'resolved', limit: RECENT_RESOLVED }));
  const given = storedPart(() => undelivered(deps.store, at));
  const silences = storedPart(() => deps.store.listSilences({ activeAt: at }));
  const storeUnavailable = uptimeRows === null || resolved === null || given === null || silences === null;
  const model = statusPageModel({
    config: deps.config,
    state: deps.engineState(),
    uptimeRows: uptimeRows ?? [],
    resolved: resolved ?? [],
    undelivered: given ?? [],
    ...(deps.lastChecked ? { lastChecked: deps.lastChecked } : {}),
    silences: silences ?? [],
    now: at,
    ...(storeUnavailable ? { storeUnavailable: storeLabel(deps.config.store) } : {}),
  });
  const title = model.incidents.length > 0 ? `(${model.incidents.length}) vigil status` : 'vigil status';
  return renderHtml(deps, 'status', { title, refreshSeconds: REFRESH_SECONDS }, model);
}

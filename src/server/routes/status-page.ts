// GET /status and /status/incidents/:id: server-rendered HTML for humans, under a strict Content-Security-Policy.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { SilenceBook } from '../../silence-book.js';
import type { AppDeps } from '../deps.js';
import { secretsOf, scrubSecrets } from '../serialize.js';
import { incidentView, REFRESH_SECONDS, statusPageModel } from '../views/model.js';
import { escapeHtml, renderPage, styleSource, type PageChrome, type PageName } from '../views/render.js';
import { timeView } from '../views/format.js';
import { uptimeSince } from '../views/uptime.js';
import { markdownToHtml } from '../views/markdown.js';
import { reviewOf } from './review.js';
import { acceptsGzip, gzipOnce } from '../gzip-kept.js';
import { RenderCache } from '../render-cache.js';
import { storeLabel } from '../../store/configured.js';
import { undelivered, type KeptRendering } from './status.js';
import { readIncident, storedPart } from '../memory-reads.js';

/** Resolved incidents listed under "Recently resolved". */
export const RECENT_RESOLVED = 10;

const ID = /^[1-9][0-9]{0,14}$/;

/**
 * No script may run on these pages at all: they have none, so text from a probe that slipped past
 * escaping still could not execute. The one inline <style> is allowed by the hash of its text, the
 * same for every response, so a rendering can be kept and sent as it is.
 */
export function contentSecurityPolicy(opts: { forms?: boolean } = {}): string {
  return [
    "default-src 'none'",
    `style-src ${styleSource()}`,
    'img-src data:',
    "base-uri 'none'",
    // Only the action page has a form, and it posts back to vigil itself.
    opts.forms ? "form-action 'self'" : "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

type PageDeps = Pick<AppDeps, 'config' | 'store' | 'engineState' | 'lastChecked'>;

/**
 * A rendered page, whole. A page kept for many responses holds its body as bytes, encoded and
 * scrubbed of secrets once (the app's onSend hook scrubs strings only), and its gzip once asked for.
 */
export interface RenderedPage {
  name: PageName;
  body: string | Buffer;
  /** A kept page's gzip: compressed on the first request that accepts gzip, then sent as it is. */
  gzip?: () => Buffer;
}

export function renderHtml(deps: Pick<AppDeps, 'config'>, name: PageName, page: PageChrome, data: object): RenderedPage {
  const html = renderPage(name, page, data);
  // The app's onSend hook scrubs secrets as they read raw and in JSON; in HTML a secret with & < > " '
  // reads escaped, so its escaped form is scrubbed here. (A secret that were a run of the stylesheet's
  // text would break its hash: the page would lose its style, never show the secret.)
  const escaped = secretsOf(deps.config)
    .map(escapeHtml)
    .filter((s, i, all) => all.indexOf(s) === i);
  return { name, body: scrubSecrets(html, escaped) };
}

/** The page as bytes to keep: `scrub` is the app's own secret scrubber, which bytes no longer pass through. */
export function keptPage(page: RenderedPage, scrub: (text: string) => string): RenderedPage {
  const body = Buffer.from(scrub(String(page.body)));
  let gzip: Buffer | undefined;
  return { name: page.name, body, gzip: () => (gzip ??= gzipOnce(body)) };
}

/** `acceptEncoding`: the request's Accept-Encoding, for a kept page that can answer gzip. */
export function sendRendered(reply: FastifyReply, status: number, page: RenderedPage, acceptEncoding?: string | string[]) {
  reply
    .code(status)
    .header('content-security-policy', contentSecurityPolicy({ forms: page.name === 'act' }))
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .type('text/html; charset=utf-8');
  if (!page.gzip) return reply.send(page.body);
  reply.header('vary', 'accept-encoding');
  if (!acceptsGzip(acceptEncoding)) return reply.send(page.body);
  return reply.header('content-encoding', 'gzip').send(page.gzip());
}

export function sendPage(deps: Pick<AppDeps, 'config'>, reply: FastifyReply, status: number, name: PageName, page: PageChrome, data: object) {
  return sendRendered(reply, status, renderHtml(deps, name, page, data));
}

/** `silences` are the ones the daemon holds (the engine needs them): /status shows them while the store cannot be read. */
export function statusPageRoutes(app: FastifyInstance, deps: PageDeps, now: () => number, kept: KeptRendering, silences: Pick<SilenceBook, 'current'>): void {
  const cache = new RenderCache<RenderedPage>();
  app.get('/status', async (request, reply) => {
    const at = now();
    return sendRendered(reply, 200, cache.get(kept.key(), at, () => keptPage(renderStatusPage(deps, silences, at), kept.scrub)), request.headers['accept-encoding']);
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

function renderStatusPage(deps: PageDeps, held: Pick<SilenceBook, 'current'>, at: number): RenderedPage {
  // While the store cannot be read the page shows what the daemon holds in memory (services, open
  // incidents, silences in force) and says what is missing, rather than nothing at all.
  const uptimeRows = storedPart(() => deps.store.uptime(uptimeSince(at)));
  const resolved = storedPart(() => deps.store.listIncidents({ state: 'resolved', limit: RECENT_RESOLVED }));
  const given = storedPart(() => undelivered(deps.store, at));
  const stored = storedPart(() => deps.store.listSilences({ activeAt: at }));
  // Silences are held in memory too: a page that left them out while the store is down would read as
  // "nothing silenced" exactly when someone needs to know what is.
  const silences = stored ?? held.current();
  const storeUnavailable = uptimeRows === null || resolved === null || given === null || stored === null;
  const model = statusPageModel({
    config: deps.config,
    state: deps.engineState(),
    uptimeRows: uptimeRows ?? [],
    resolved: resolved ?? [],
    undelivered: given ?? [],
    ...(deps.lastChecked ? { lastChecked: deps.lastChecked } : {}),
    silences,
    now: at,
    ...(storeUnavailable ? { storeUnavailable: storeLabel(deps.config.store) } : {}),
  });
  const title = model.incidents.length > 0 ? `(${model.incidents.length}) vigil status` : 'vigil status';
  return renderHtml(deps, 'status', { title, refreshSeconds: REFRESH_SECONDS }, model);
}

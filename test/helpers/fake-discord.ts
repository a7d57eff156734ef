// A strict fake of Discord's webhook API (fastify on 127.0.0.1): documented limits, rate-limit buckets, scripted failures.
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';

export const LIMITS = {
  content: 2000,
  embeds: 10,
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footer: 2048,
  authorName: 256,
  username: 80,
  embedTotal: 6000,
  actionRows: 5,
  buttonsPerRow: 5,
  buttonLabel: 80,
  buttonUrl: 512,
} as const;

/** A scripted answer for the next request to a webhook. */
export type Scripted =
  | { status: 429; retryAfter: number; global?: boolean }
  | { status: 503 }
  | { status: 404 }
  | { status: 401 }
  /** Stores the message like any other, then answers only after `delayMs` (a slow Discord). */
  | { status: 'slow'; delayMs: number };

export interface Accepted {
  at: number;
  payload: Record<string, any>;
  /** What Discord would ping: `role:<id>`, `user:<id>`, `everyone`, as content and allowed_mentions allow. */
  pinged: string[];
}

export interface RequestLog {
  at: number;
  webhook: string;
  status: number;
}

interface Webhook {
  name: string;
  id: string;
  token: string;
  deleted: boolean;
  accepted: Accepted[];
  script: Scripted[];
  windowStart: number;
  used: number;
}

/** What a message would ping, as Discord decides it from its content and allowed_mentions. */
export function pings(payload: Record<string, any>): string[] {
  const content = typeof payload.content === 'string' ? payload.content : '';
  const am = payload.allowed_mentions as { parse?: string[]; roles?: string[]; users?: string[] } | undefined;
  const parse = am ? (am.parse ?? []) : ['roles', 'users', 'everyone'];
  const found: string[] = [];
  for (const [, kind, id] of content.matchAll(/<@(&|!?)(\d+)>/g)) {
    const role = kind === '&';
    const allowed = role ? parse.includes('roles') || (am?.roles ?? []).includes(id!) : parse.includes('users') || (am?.users ?? []).includes(id!);
    if (allowed) found.push(`${role ? 'role' : 'user'}:${id}`);
  }
  if (/@(everyone|here)/.test(content) && parse.includes('everyone')) found.push('everyone');
  return found;
}

export interface FakeDiscordOptions {
  /** The only role a message may name in allowed_mentions.roles (the server's on-call role); others are refused. */
  role?: string;
  /** Requests per window per webhook (Discord: about 5 per 2 s). */
  limit?: number;
  windowMs?: number;
}

/**
 * Message components as a webhook that no application owns may send them: action rows (type 1) of
 * link buttons (type 2, style 5, with a url and no custom_id); anything interactive is refused.
 */
function validateComponents(components: unknown, bad: (path: string, why: string) => void): void {
  if (!Array.isArray(components)) return void bad('components', 'must be an array');
  if (components.length > LIMITS.actionRows) bad('components', `must be ${LIMITS.actionRows} or fewer in length`);
  components.forEach((row: any, i: number) => {
    const at = `components.${i}`;
    if (typeof row !== 'object' || row === null || row.type !== 1) return void bad(`${at}.type`, 'top-level components must be action rows (type 1)');
    if (!Array.isArray(row.components) || row.components.length === 0) return void bad(`${at}.components`, 'must be a non-empty array');
    if (row.components.length > LIMITS.buttonsPerRow) bad(`${at}.components`, `must be ${LIMITS.buttonsPerRow} or fewer in length`);
    row.components.forEach((b: any, j: number) => {
      const here = `${at}.components.${j}`;
      if (typeof b !== 'object' || b === null || b.type !== 2) return void bad(`${here}.type`, 'an action row holds buttons (type 2) here');
      if (b.style !== 5) return void bad(`${here}.style`, 'interactive components need an application-owned webhook; only link buttons (style 5) are allowed');
      if (b.custom_id !== undefined) bad(`${here}.custom_id`, 'a link button cannot have a custom_id');
      if (typeof b.url !== 'string' || b.url === '') bad(`${here}.url`, 'a link button needs a url');
      else if (b.url.length > LIMITS.buttonUrl) bad(`${here}.url`, `must be ${LIMITS.buttonUrl} or fewer in length`);
      else if (!/^(https?|discord):\/\/[^\s]+$/.test(b.url)) bad(`${here}.url`, 'scheme must be one of (http, https, discord)');
      if (b.label === undefined && b.emoji === undefined) bad(`${here}.label`, 'a button needs a label or an emoji');
      if (b.label !== undefined && (typeof b.label !== 'string' || b.label.length > LIMITS.buttonLabel)) bad(`${here}.label`, `must be a string of ${LIMITS.buttonLabel} or fewer in length`);
    });
  });
}

/** Collects every violation as Discord's 50035 "Invalid Form Body" would, by JSON path. */
export function validatePayload(body: unknown, opts: { withComponents?: boolean } = {}): Record<string, string> {
  const errors: Record<string, string> = {};
  const bad = (path: string, why: string) => (errors[path] = why);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { _: 'body must be a JSON object' };
  const b = body as Record<string, unknown>;
  const str = (path: string, v: unknown, max: number, required = false) => {
    if (v === undefined || v === null) {
      if (required) bad(path, 'required');
      return 0;
    }
    if (typeof v !== 'string') return bad(path, 'must be a string'), 0;
    if (v.length > max) bad(path, `must be ${max} or fewer in length`);
    if (required && v.trim() === '') bad(path, 'must not be empty');
    return v.length;
  };
  str('content', b.content, LIMITS.content);
  if (b.username !== undefined) {
    str('username', b.username, LIMITS.username);
    if (typeof b.username === 'string' && /discord|clyde/i.test(b.username)) bad('username', 'contains a forbidden word');
  }
  const am = b.allowed_mentions as Record<string, unknown> | undefined;
  if (am !== undefined) {
    if (typeof am !== 'object' || am === null || Array.isArray(am)) bad('allowed_mentions', 'must be an object');
    else {
      if (am.parse !== undefined && (!Array.isArray(am.parse) || am.parse.some((p) => !['roles', 'users', 'everyone'].includes(p as string)))) bad('allowed_mentions.parse', 'invalid');
      for (const kind of ['roles', 'users'] as const) {
        const ids = am[kind];
        if (ids === undefined) continue;
        if (!Array.isArray(ids) || ids.length > 100 || ids.some((id) => typeof id !== 'string' || !/^\d{17,20}$/.test(id))) bad(`allowed_mentions.${kind}`, 'must be a list of at most 100 snowflakes');
        else if (Array.isArray(am.parse) && am.parse.includes(kind)) bad(`allowed_mentions.${kind}`, `parse:["${kind}"] and ${kind}: [ids] are mutually exclusive`);
      }
    }
  }
  let total = 0;
  if (b.embeds !== undefined) {
    if (!Array.isArray(b.embeds)) bad('embeds', 'must be an array');
    else {
      if (b.embeds.length > LIMITS.embeds) bad('embeds', `must be ${LIMITS.embeds} or fewer in length`);
      b.embeds.forEach((e: unknown, i: number) => {
        const at = `embeds.${i}`;
        if (typeof e !== 'object' || e === null) return void bad(at, 'must be an object');
        const embed = e as Record<string, any>;
        total += str(`${at}.title`, embed.title, LIMITS.title);
        total += str(`${at}.description`, embed.description, LIMITS.description);
        if (embed.url !== undefined && (typeof embed.url !== 'string' || !/^https?:\/\//.test(embed.url))) bad(`${at}.url`, 'not a well formed URL');
        if (embed.color !== undefined && (!Number.isInteger(embed.color) || embed.color < 0 || embed.color > 0xffffff)) bad(`${at}.color`, 'invalid colour');
        if (embed.timestamp !== undefined && (typeof embed.timestamp !== 'string' || Number.isNaN(Date.parse(embed.timestamp)))) bad(`${at}.timestamp`, 'not ISO8601');
        if (embed.footer !== undefined) total += str(`${at}.footer.text`, embed.footer?.text, LIMITS.footer, true);
        if (embed.author !== undefined) total += str(`${at}.author.name`, embed.author?.name, LIMITS.authorName, true);
        if (embed.fields !== undefined) {
          if (!Array.isArray(embed.fields)) return void bad(`${at}.fields`, 'must be an array');
          if (embed.fields.length > LIMITS.fields) bad(`${at}.fields`, `must be ${LIMITS.fields} or fewer in length`);
          embed.fields.forEach((f: any, j: number) => {
            total += str(`${at}.fields.${j}.name`, f?.name, LIMITS.fieldName, true);
            total += str(`${at}.fields.${j}.value`, f?.value, LIMITS.fieldValue, true);
            if (f?.inline !== undefined && typeof f.inline !== 'boolean') bad(`${at}.fields.${j}.inline`, 'must be a boolean');
          });
        }
      });
      if (total > LIMITS.embedTotal) bad('embeds', `embed size exceeds maximum size of ${LIMITS.embedTotal}`);
    }
  }
  // Without ?with_components=true Discord ignores components altogether (the caller drops them).
  if (b.components !== undefined && opts.withComponents) validateComponents(b.components, bad);
  const hasContent = typeof b.content === 'string' && b.content.trim() !== '';
  const hasEmbeds = Array.isArray(b.embeds) && b.embeds.length > 0;
  if (!hasContent && !hasEmbeds && Object.keys(errors).length === 0) errors._empty = 'Cannot send an empty message';
  return errors;
}

/** The `alerts.discord` block whose webhooks FakeDiscord.channelEnv() supplies. */
export const DISCORD_CHANNELS_YAML = `alerts:
  discord:
    errors: { url_env: DISCORD_WEBHOOK_ERRORS }
    warnings: { url_env: DISCORD_WEBHOOK_WARNINGS }
    ops: { url_env: DISCORD_WEBHOOK_OPS }`;

export class FakeDiscord {
  readonly app: FastifyInstance;
  readonly requests: RequestLog[] = [];
  readonly rejected: Array<{ webhook: string; errors: Record<string, string> }> = [];
  /** Messages that carried components without ?with_components=true: Discord posts them without their buttons. */
  readonly droppedComponents: Array<{ webhook: string; components: unknown }> = [];
  readonly #hooks = new Map<string, Webhook>();
  #channelEnv: ReturnType<FakeDiscord['channelEnv']> | undefined;
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #role: string | undefined;
  #outageUntil = 0;
  #base = '';

  constructor(opts: FakeDiscordOptions = {}) {
    this.#limit = opts.limit ?? 5;
    this.#windowMs = opts.windowMs ?? 2_000;
    this.#role = opts.role;
    this.app = Fastify({ logger: false, bodyLimit: 1 << 20 });
    this.app.post<{ Params: { id: string; token: string }; Querystring: { wait?: string; with_components?: string } }>('/api/webhooks/:id/:token', async (req, reply) => {
      const now = Date.now();
      const hook = this.#hooks.get(req.params.id);
      const answer = (status: number, body?: unknown) => {
        this.requests.push({ at: now, webhook: hook?.name ?? '?', status });
        return body === undefined ? reply.code(status).send() : reply.code(status).send(body);
      };
      if (!hook || hook.deleted) return answer(404, { message: 'Unknown Webhook', code: 10015 });
      if (hook.token !== req.params.token) return answer(401, { message: 'Invalid Webhook Token', code: 50027 });
      const scripted = hook.script.shift();
      const slow = scripted?.status === 'slow' ? scripted.delayMs : 0;
      if (scripted?.status === 429) return this.#tooMany(reply, hook, scripted.retryAfter, scripted.global ?? false, answer);
      if (scripted && scripted.status !== 'slow') return answer(scripted.status, scripted.status === 503 ? 'upstream connect error' : { message: 'Unknown Webhook', code: 10015 });
      if (now < this.#outageUntil) return answer(503, 'upstream connect error or disconnect/reset before headers');
      // The bucket: a fixed window that starts with its first request.
      if (now - hook.windowStart >= this.#windowMs) {
        hook.windowStart = now;
        hook.used = 0;
      }
      if (hook.used >= this.#limit) return this.#tooMany(reply, hook, (hook.windowStart + this.#windowMs - now) / 1000, false, answer);
      hook.used += 1;
      this.#rateHeaders(reply, hook, now);
      const withComponents = req.query.with_components === 'true';
      const errors = validatePayload(req.body, { withComponents });
      const roles = (req.body as { allowed_mentions?: { roles?: unknown } } | null)?.allowed_mentions?.roles;
      if (Array.isArray(roles) && roles.some((r) => r !== this.#role)) errors['allowed_mentions.roles'] = `names a role other than the on-call role: ${JSON.stringify(roles)}`;
      if (Object.keys(errors).length > 0) {
        this.rejected.push({ webhook: hook.name, errors });
        return errors._empty ? answer(400, { message: 'Cannot send an empty message', code: 50006 }) : answer(400, { message: 'Invalid Form Body', code: 50035, errors });
      }
      let payload = req.body as Record<string, any>;
      if (payload.components !== undefined && !withComponents) {
        // As Discord does: accepted, posted, and the buttons silently gone.
        this.droppedComponents.push({ webhook: hook.name, components: payload.components });
        const { components: _dropped, ...rest } = payload;
        payload = rest;
      }
      hook.accepted.push({ at: now, payload, pinged: pings(payload) });
      if (slow > 0) await new Promise((r) => setTimeout(r, slow));
      if (req.query.wait !== 'true') return answer(204);
      return answer(200, { id: String(hook.accepted.length), channel_id: hook.id, webhook_id: hook.id, content: payload.content ?? '', embeds: payload.embeds ?? [], components: payload.components ?? [] });
    });
  }

  #rateHeaders(reply: FastifyReply, hook: Webhook, now: number): void {
    const resetAt = hook.windowStart + this.#windowMs;
    reply.header('x-ratelimit-limit', String(this.#limit));
    reply.header('x-ratelimit-remaining', String(Math.max(0, this.#limit - hook.used)));
    reply.header('x-ratelimit-reset', (resetAt / 1000).toFixed(3));
    reply.header('x-ratelimit-reset-after', ((resetAt - now) / 1000).toFixed(3));
    reply.header('x-ratelimit-bucket', `bucket-${hook.id}`);
  }

  #tooMany(reply: FastifyReply, hook: Webhook, retryAfter: number, global: boolean, answer: (s: number, b?: unknown) => FastifyReply): FastifyReply {
    const seconds = Math.max(0, Number(retryAfter.toFixed(3)));
    this.#rateHeaders(reply, hook, Date.now());
    reply.header('x-ratelimit-remaining', '0');
    reply.header('retry-after', String(Math.ceil(seconds)));
    if (global) reply.header('x-ratelimit-global', 'true');
    return answer(429, { message: 'You are being rate limited.', retry_after: seconds, global });
  }

  async start(): Promise<this> {
    await this.app.listen({ host: '127.0.0.1', port: 0 });
    const addr = this.app.server.address();
    this.#base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    return this;
  }

  close(): Promise<void> {
    return this.app.close();
  }

  /**
   * vigil's environment for the three channels of DISCORD_CHANNELS_YAML, each webhook made once (a
   * second webhook() of one name would be a webhook nobody reads back).
   */
  channelEnv(): { DISCORD_WEBHOOK_ERRORS: string; DISCORD_WEBHOOK_WARNINGS: string; DISCORD_WEBHOOK_OPS: string } {
    this.#channelEnv ??= { DISCORD_WEBHOOK_ERRORS: this.webhook('errors'), DISCORD_WEBHOOK_WARNINGS: this.webhook('warnings'), DISCORD_WEBHOOK_OPS: this.webhook('ops') };
    return this.#channelEnv;
  }

  /** Creates a webhook and returns its URL (which, like Discord's, carries the token). */
  webhook(name: string): string {
    const id = String(100000 + this.#hooks.size);
    const token = randomBytes(12).toString('hex');
    this.#hooks.set(id, { name, id, token, deleted: false, accepted: [], script: [], windowStart: 0, used: 0 });
    return `${this.#base}/api/webhooks/${id}/${token}`;
  }

  #byName(name: string): Webhook {
    const hook = [...this.#hooks.values()].find((h) => h.name === name);
    if (!hook) throw new Error(`no webhook ${name}`);
    return hook;
  }

  accepted(name: string): Accepted[] {
    return this.#byName(name).accepted;
  }

  /** Answers to the next requests of a webhook, in order, before any other rule applies. */
  script(name: string, ...answers: Scripted[]): void {
    this.#byName(name).script.push(...answers);
  }

  deleteWebhook(name: string): void {
    this.#byName(name).deleted = true;
  }

  /** Every webhook answers 503 for the next `ms`. */
  outage(ms: number): void {
    this.#outageUntil = Date.now() + ms;
  }

  count(status: number, webhook?: string): number {
    return this.requests.filter((r) => r.status === status && (webhook === undefined || r.webhook === webhook)).length;
  }
}

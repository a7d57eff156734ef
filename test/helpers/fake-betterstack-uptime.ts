// A strict fake of Better Stack's Uptime incidents API (fastify on 127.0.0.1): bearer token, required
// fields, 409 on a second ack/resolve, a scripted 429 with Retry-After, and acks "from the phone".
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';

export interface UptimeCall {
  at: number;
  method: string;
  path: string;
  status: number;
  body: Record<string, unknown> | null;
}

export interface FakeIncident {
  id: string;
  created: Record<string, unknown>;
  startedAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  resolvedAt: string | null;
  resolvedBy: string | null;
  escalations: Array<Record<string, unknown>>;
}

export interface FakeUptimeOptions {
  token: string;
  /** Answer the very first request with 429 and this Retry-After (seconds). */
  rateLimitFirst?: number;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const FLAGS = ['call', 'sms', 'email', 'push', 'critical_alert'] as const;
const ESCALATION_TYPES = ['User', 'Team', 'Schedule', 'Policy', 'Organization'];

export class FakeBetterStackUptime {
  readonly app: FastifyInstance;
  readonly calls: UptimeCall[] = [];
  readonly incidents = new Map<string, FakeIncident>();
  /** While true, every request is answered 503 (an outage). */
  unavailable = false;
  readonly #token: string;
  #rateLimitFirst: number | undefined;
  /** Answers for the next requests, before any other rule. */
  readonly #script: number[] = [];
  #nextId = 9000;
  #base = '';

  constructor(opts: FakeUptimeOptions) {
    this.#token = opts.token;
    this.#rateLimitFirst = opts.rateLimitFirst;
    this.app = Fastify({ logger: false });
    this.app.addHook('preHandler', async (req, reply) => {
      const body = (req.body ?? null) as Record<string, unknown> | null;
      const record = (status: number) => this.calls.push({ at: Date.now(), method: req.method, path: req.url, status, body });
      (req as unknown as { record: typeof record }).record = record;
      if (this.#rateLimitFirst !== undefined) {
        const seconds = this.#rateLimitFirst;
        this.#rateLimitFirst = undefined;
        record(429);
        return reply.code(429).header('retry-after', String(seconds)).send({ errors: 'Too many requests' });
      }
      if (this.unavailable) {
        record(503);
        return reply.code(503).send('Service Unavailable');
      }
      const scripted = this.#script.shift();
      if (scripted !== undefined) {
        record(scripted);
        return reply.code(scripted).send({ errors: `scripted ${scripted}` });
      }
      if (req.headers.authorization !== `Bearer ${this.#token}`) {
        record(401);
        return reply.code(401).send({ errors: 'Invalid Team API token. How to find your Team API token: https://betterstack.com/docs/uptime/api/getting-started-with-uptime-api#obtaining-an-uptime-api-token' });
      }
      return undefined;
    });

    const send = (req: unknown, reply: FastifyReply, status: number, body: unknown) => {
      (req as { record: (s: number) => void }).record(status);
      return reply.code(status).send(body);
    };

    this.app.post('/api/v3/incidents', async (req, reply) => {
      const b = (req.body ?? {}) as Record<string, unknown>;
      const errors: Record<string, string[]> = {};
      if (typeof b.requester_email !== 'string' || !EMAIL.test(b.requester_email)) errors.requester_email = ['is not a valid email'];
      if (typeof b.summary !== 'string' || b.summary.trim() === '') errors.summary = ["can't be blank"];
      for (const f of FLAGS) if (b[f] !== undefined && typeof b[f] !== 'boolean') errors[f] = ['must be a boolean'];
      if (b.team_wait !== undefined && !Number.isInteger(b.team_wait)) errors.team_wait = ['must be an integer'];
      if (b.policy_id !== undefined && typeof b.policy_id !== 'string') errors.policy_id = ['must be a string'];
      if (Object.keys(errors).length > 0) return send(req, reply, 422, { errors });
      const id = String(this.#nextId++);
      const incident: FakeIncident = { id, created: b, startedAt: new Date().toISOString(), acknowledgedAt: null, acknowledgedBy: null, resolvedAt: null, resolvedBy: null, escalations: [] };
      this.incidents.set(id, incident);
      return send(req, reply, 201, this.#json(incident));
    });

    this.app.get<{ Params: { id: string } }>('/api/v3/incidents/:id', async (req, reply) => {
      const incident = this.incidents.get(req.params.id);
      return incident ? send(req, reply, 200, this.#json(incident)) : send(req, reply, 404, { errors: 'Resource not found' });
    });

    // Acknowledge and resolve: 404 unknown, 409 "already", 422 a by that is not a string.
    for (const [verb, key, already] of [['acknowledge', 'acknowledged_by', 'acknowledged'], ['resolve', 'resolved_by', 'resolved']] as const) {
      this.app.post<{ Params: { id: string } }>(`/api/v3/incidents/:id/${verb}`, async (req, reply) => {
        const incident = this.incidents.get(req.params.id);
        if (!incident) return send(req, reply, 404, { errors: 'Resource not found' });
        const done = verb === 'acknowledge' ? incident.acknowledgedAt !== null || incident.resolvedAt !== null : incident.resolvedAt !== null;
        if (done) return send(req, reply, 409, { errors: `Incident already ${already}` });
        const by = (req.body as Record<string, unknown> | null)?.[key];
        if (by !== undefined && typeof by !== 'string') return send(req, reply, 422, { errors: { [key]: ['must be a string'] } });
        if (verb === 'acknowledge') this.acknowledgeFromPhone(incident.id, by ?? null);
        else this.resolveFromPhone(incident.id, by ?? null);
        return send(req, reply, 200, this.#json(incident));
      });
    }

    this.app.post<{ Params: { id: string } }>('/api/v3/incidents/:id/escalate', async (req, reply) => {
      const incident = this.incidents.get(req.params.id);
      if (!incident) return send(req, reply, 404, { errors: 'Resource not found' });
      const b = (req.body ?? {}) as Record<string, unknown>;
      if (typeof b.escalation_type !== 'string' || !ESCALATION_TYPES.includes(b.escalation_type)) return send(req, reply, 422, { errors: { escalation_type: ['is not included in the list'] } });
      if (b.escalation_type === 'Policy' && !Number.isInteger(b.policy_id)) return send(req, reply, 422, { errors: { policy_id: ['must be an integer'] } });
      if (incident.resolvedAt !== null) return send(req, reply, 409, { errors: 'Incident already resolved' });
      incident.escalations.push(b);
      return send(req, reply, 200, this.#json(incident));
    });
  }

  #json(i: FakeIncident) {
    return {
      data: {
        id: i.id,
        type: 'incident',
        attributes: {
          name: i.created.name ?? null,
          cause: i.created.summary ?? null,
          started_at: i.startedAt,
          acknowledged_at: i.acknowledgedAt,
          acknowledged_by: i.acknowledgedBy,
          resolved_at: i.resolvedAt,
          resolved_by: i.resolvedBy,
          call: i.created.call ?? false,
          sms: i.created.sms ?? false,
          email: i.created.email ?? false,
          push: i.created.push ?? false,
          escalation_policy_id: i.created.policy_id ?? null,
        },
      },
    };
  }

  async start(): Promise<this> {
    await this.app.listen({ host: '127.0.0.1', port: 0 });
    const addr = this.app.server.address();
    this.#base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    return this;
  }

  get url(): string {
    return this.#base;
  }

  close(): Promise<void> {
    return this.app.close();
  }

  /** The next requests get these statuses, whatever they are. */
  script(...statuses: number[]): void {
    this.#script.push(...statuses);
  }

  /** Someone taps "Acknowledge" in the Better Stack app. */
  acknowledgeFromPhone(id: string, by: string | null): void {
    const incident = this.#get(id);
    incident.acknowledgedAt = new Date().toISOString();
    incident.acknowledgedBy = by;
  }

  resolveFromPhone(id: string, by: string | null): void {
    const incident = this.#get(id);
    incident.resolvedAt = new Date().toISOString();
    incident.resolvedBy = by;
  }

  #get(id: string): FakeIncident {
    const incident = this.incidents.get(id);
    if (!incident) throw new Error(`no incident ${id}`);
    return incident;
  }

  /** Calls that changed something (not the reads), as "METHOD path status". */
  writes(): string[] {
    return this.calls.filter((c) => c.method !== 'GET').map((c) => `${c.method} ${c.path} ${c.status}`);
  }
}

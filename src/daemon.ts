// Wires the pipeline of `vigil run`: scheduler → probe → findings → engine → store + outbox → sinks,
// with the HTTP server beside it. The only place that holds the engine's current state.
import { setFlagsFromString } from 'node:v8';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Cluster } from './cluster/cluster.js';
import { clusterStoreUrl } from './cluster/store-url.js';
import type { Config, ProbeMeta, ResolvedProbe } from './config/types.js';
import { REPLICA_PROBE_ID, replicaFindings, replicaProbeMeta } from './cluster/replica-probe.js';
import { Heartbeat } from './heartbeat.js';
import { plural } from './plural.js';
import { command as engineCommand, initialState, step, tick, unacknowledged } from './incidents/engine.js';
import { withDatabaseDependencies } from './incidents/grouping.js';
import type { Command, CommandResult, EngineCommand, EngineConfig, EngineState, StepResult } from './incidents/state.js';
import type { LogShipping } from './log.js';
import { createMetrics, forgetProbe, observeProbeRun, type Metrics } from './metrics.js';
import { eventLogLine } from './notify/messages.js';
import { Outbox } from './notify/outbox.js';
import { OncallSync } from './notify/oncall-sync.js';
import { CONSOLE_SINK, DISCORD_SINK, ONCALL_SINK, route, type RouteChannels } from './notify/route.js';
import { escalationTarget, oncallSink } from './notify/sinks/betterstack-oncall.js';
import { consoleSink } from './notify/sinks/console.js';
import { discordSink } from './notify/sinks/discord.js';
import { isRunnable, observeRun, prepareProbeTypes, runProbe } from './probes/index.js';
import { Scheduler, TimeoutError } from './scheduler.js';
import { buildApp } from './server/app.js';
import { showsChange } from './server/render-cache.js';
import type { CommandAnswer } from './server/deps.js';
import { ApiError } from './server/serialize.js';
import { SilenceBook } from './silence-book.js';
import type { Silence } from './incidents/silences.js';
import { createTransports, type Transports } from './transport/index.js';
import { openConfiguredStore, storeLabel } from './store/configured.js';
import type { NewMessage } from './store/store.js';
import { WriteBehindStore } from './store/write-behind.js';
import { mergeFindings, streaks, type ReplicaResult, type Streak } from './cluster/quorum.js';
import { planTriage, type TriageStep } from './triage/plan.js';
import { startsTriage, TRIAGE_HOLD_MS, TriageRunner, waitsForTriage } from './triage/runner.js';
import type { Finding, IncidentEvent, ProbeRun, Severity, Sink } from './types.js';
import type { ProbeMemory } from './probes/contract.js';

// undici parses HTTP with llhttp, compiled to WebAssembly when its first request is made. V8 would
// tier hot WebAssembly up to its optimising compiler, and that one compile holds ~35 MB of resident
// memory for a moment (12 MB of the daemon's peak at 1,000 probes). On responses the size of a health
// check the baseline code parses as fast (2,000 requests took the same CPU either way), so the daemon
// keeps it. The flag applies to WebAssembly compiled after this line, and importing this module comes
// before any request.
setFlagsFromString('--liftoff-only');

export const REOPEN_WINDOW_MS = 10 * 60_000;
const TICK_MS = 10_000;
const UPTIME_FLUSH_MS = 60_000;
const PRUNE_MS = 60 * 60_000;
/** How often a leading replica applies the commands standbys queued. */
const DRAIN_MS = 250;
/** A standby re-reads the engine state from the store for /status at most this often. */
const STANDBY_STATE_MS = 1_000;
/**
 * A stop is over within 15 s. `vigil run` keeps 3 s of that for the last Better Stack flush;
 * the daemon's own steps share the rest: in-flight probes first, then the delivery in flight.
 */
const STOP_PROBES_MS = 6_000;
const STOP_TRANSPORTS_MS = 1_000;
const STOP_OUTBOX_MS = 2_000;

/** The store refused an engine change: nothing was recorded, so the caller must not report success. */
export class StoreWriteError extends Error {
  readonly code = 'VIGIL_ERR_STORE_WRITE';
  constructor() {
    super('the store did not record the change; see the vigil log');
    this.name = 'StoreWriteError';
  }
}
/** The Discord webhooks and link base a sink is built from; a reload rebuilds the sink when these change. */
function discordKey(config: Config): string {
  const d = config.alerts.discord;
  return JSON.stringify([d.errors, d.warnings, d.ops, d.mentionRole ?? null, config.server.publicUrl, config.server.actionSecret]);
}
/** The Better Stack on-call settings a sink and its sync are built from. */
function oncallKey(config: Config): string {
  return JSON.stringify([config.alerts.oncall ?? null, config.server.publicUrl]);
}

export interface DaemonOptions {
  config: Config;
  log: Logger;
  version: string;
  /** Listen on config.server.listen (default true); tests may use the app with inject() instead. */
  listen?: boolean;
  now?: () => number;
  /** Observer of each run's scheduler lag in seconds (the benchmark reads the raw values). */
  onLag?: (seconds: number) => void;
  /** The logger's Better Stack side, whose dropped records become vigil_log_records_dropped_total. */
  logShipping?: LogShipping | null;
}

/** The server could not listen on server.listen; the message names the key, the address and why. */
export class ListenError extends Error {
  readonly code = 'VIGIL_ERR_LISTEN';
  override name = 'ListenError';
}

const ACCEPT_BACKLOG = 4096;

async function listenOrExplain(app: FastifyInstance, config: Config): Promise<void> {
  const { host, port, listen } = config.server;
  try {
    // Node's default accept queue (511) drops the SYNs of a crowd opening /status at once (an incident
    // shared in a channel), and each dropped one waits a second for its retry; the kernel caps this at somaxconn.
    await app.listen({ host, port, backlog: ACCEPT_BACKLOG });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const why =
      code === 'EADDRINUSE'
        ? `port ${port} is already in use on ${host} (another vigil, or another program)`
        : code === 'EACCES'
          ? `permission denied to listen on port ${port} (ports below 1024 need privileges)`
          : code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND'
            ? `${host} is not an address of this machine`
            : (err as Error).message;
    throw new ListenError(`server.listen ${listen} in ${config.file}: ${why}`, { cause: err });
  }
}

export function engineConfigOf(config: Config, silences: readonly Silence[] = []): EngineConfig {
  const probes = new Map<string, ProbeMeta>(withDatabaseDependencies(config.probes).map((p) => [p.id, p]));
  if (config.cluster) probes.set(REPLICA_PROBE_ID, replicaProbeMeta(config));
  return {
    probes,
    environments: config.environments,
    reopenWindowMs: REOPEN_WINDOW_MS,
    maintenance: config.maintenance,
    silences,
    publicUrl: config.server.publicUrl,
  };
}

export class Daemon {
  readonly store: WriteBehindStore;
  readonly metrics: Metrics;
  readonly app: FastifyInstance;
  readonly log: Logger;
  #config: Config;
  #engineCfg: EngineConfig;
  #state: EngineState;
  #probes = new Map<string, ResolvedProbe>();
  readonly #scheduler: Scheduler;
  #outbox: Outbox;
  /** Set when config.cluster is: this replica's part in the cluster. */
  #cluster: Cluster | null = null;
  /**
   * True while this vigil runs the engine and the outbox: always when it runs alone; in a cluster,
   * only while it holds the leadership lock (and has loaded the state the last leader left).
   */
  #leader: boolean;
  /** Replaced when the leader's engine state changes in what /status shows (see showsChange). */
  #shown: object = {};
  #standbyState: { at: number; state: EngineState } | null = null;
  /** Per probe run elsewhere (shard mode), the start of the latest result the leader stepped. */
  readonly #shardSeen = new Map<string, number>();
  /** On the leader: since when each replica has failed, or passed, each probe as it does now (see streaks). */
  #streaks: ReadonlyMap<string, Streak> = new Map();
  readonly #transports: Transports;
  readonly #now: () => number;
  readonly #timers: NodeJS.Timeout[] = [];
  /** Per probe, when its last recorded run ended (for /status; not worth a store write per run). */
  readonly #lastChecked = new Map<string, number>();
  /** Per probe, what it keeps between its runs (p99 window, previous counters); dropped with the probe. */
  readonly #memory = new Map<string, ProbeMemory>();
  /** Per probe, the number of the latest run started. */
  readonly #runSeq = new Map<string, number>();
  readonly #sinks = new Map<string, Sink>();
  #discordKey = '';
  #oncallKey = '';
  #oncallSync: OncallSync | null = null;
  readonly #heartbeat: Heartbeat | null;
  readonly #triage: TriageRunner;
  readonly #silences: SilenceBook;
  #storeHealthy = true;
  /** How many probes this vigil runs itself (in shard mode, its share). */
  #scheduled = 0;

  private constructor(opts: DaemonOptions) {
    this.#config = opts.config;
    this.#leader = !opts.config.cluster;
    this.log = opts.log;
    this.#now = opts.now ?? Date.now;
    this.metrics = createMetrics(opts.version);
    this.metrics.unacknowledged.read = () => unacknowledged(this.#state.incidents.values(), this.#now());
    this.store = new WriteBehindStore(openConfiguredStore(opts.config.store, { exclusive: true }), {
      log: this.log,
      now: this.#now,
      onFailure: () => this.metrics.storeWriteFailures.inc(),
    });
    // A replica of a cluster reads the state when it comes to lead (#lead): until then it steps nothing.
    const loaded = opts.config.cluster ? { subjects: [], incidents: [], nextIncidentId: 1 } : this.store.loadEngineState(this.#now() - REOPEN_WINDOW_MS);
    this.#state = initialState(loaded);
    // A silence added or expired reaches the engine at once; one that ends on its own, at the next tick.
    this.#silences = new SilenceBook({
      store: this.store,
      now: this.#now,
      onChange: (current) => {
        this.#engineCfg = { ...this.#engineCfg, silences: current };
        this.#tick();
      },
    });
    this.#engineCfg = engineConfigOf(opts.config, this.#silences.current());
    this.#transports = createTransports(opts.config, this.log);
    this.#scheduler = new Scheduler({
      concurrency: opts.config.defaults.concurrency,
      log: this.log,
      now: this.#now,
      run: (id, signal) => this.#runOne(id, signal),
      onLag: (s) => {
        this.metrics.schedulerLag.observe(s);
        opts.onLag?.(s);
      },
    });
    this.#sinks.set(CONSOLE_SINK, consoleSink(this.log));
    this.#updateDiscord(opts.config);
    this.#updateOncall(opts.config);
    this.#outbox = this.#newOutbox();
    this.#triage = new TriageRunner({
      transports: this.#transports,
      store: this.store,
      log: this.log.child({ component: 'triage' }),
      now: this.#now,
      record: (cmd) => this.#command(cmd),
      kick: () => this.#outbox.kick(),
    });
    opts.logShipping?.onDropped((count) => this.metrics.logRecordsDropped.inc(count));
    const bs = opts.config.alerts.betterstack;
    this.#heartbeat = bs?.heartbeatUrl
      ? new Heartbeat({ url: bs.heartbeatUrl, intervalMs: bs.heartbeatIntervalMs, health: () => this.#heartbeatHealth(), log: this.log, metrics: this.metrics })
      : null;
    const self = this;
    this.app = buildApp({
      get config() {
        return self.#config;
      },
      store: this.store,
      metrics: this.metrics,
      log: this.log,
      engineState: () => this.#viewState(),
      // A standby shows the state it read from the store, itself replaced when read again.
      shownState: () => (this.#leader ? this.#shown : this.#viewState()),
      dispatch: (cmd) => this.#dispatchAnywhere(cmd),
      cluster: () => this.#cluster?.status() ?? null,
      silences: this.#silences,
      health: () => ({ scheduler: this.#scheduler.healthy(), store: this.#storeHealthy && !this.store.writesFailing(), ready: this.#scheduler.firstRoundDone() }),
      lastChecked: (probe) => this.#lastChecked.get(probe) ?? null,
      now: this.#now,
      pushed: (probe) => this.#scheduler.runNow(probe),
    });
  }

  static async start(opts: DaemonOptions): Promise<Daemon> {
    const d = new Daemon(opts);
    if (opts.listen !== false) {
      await listenOrExplain(d.app, opts.config);
    } else {
      await d.app.ready();
    }
    const cluster = opts.config.cluster;
    if (cluster) {
      try {
        d.#cluster = await Cluster.start({
          config: cluster,
          url: clusterStoreUrl(opts.config),
          log: d.log,
          now: d.#now,
          onLeading: (leading) => (leading ? d.#lead() : d.#standDown()),
          probes: () => d.#scheduled,
          onMembers: () => cluster.mode === 'shard' && d.#applyConfig(d.#config),
        });
      } catch (err) {
        await d.app.close();
        d.store.close();
        throw err;
      }
      d.metrics.clusterLeader.set({ replica: cluster.replica }, 0);
      d.#every(DRAIN_MS, () => void d.#drainCommands());
      d.#every(cluster.intervalMs, () => void d.#judgeReplicas());
      if (cluster.mode === 'shard') d.#every(Math.min(cluster.intervalMs, 1_000), () => void d.#followShards());
    }
    d.#applyConfig(opts.config);
    // The first heartbeat went out before the probes were scheduled: tell the others the count now.
    if (d.#cluster) void d.#cluster.beat();
    if (!cluster) d.#lead();
    d.#every(TICK_MS, () => d.#leader && d.#tick());
    d.#every(UPTIME_FLUSH_MS, () => d.store.flushUptime());
    d.#every(PRUNE_MS, () => {
      if (!d.#leader) return;
      d.store.prune(d.#now(), d.#config.store.retentionMs);
      void d.#cluster?.prune(d.#config.store.retentionMs);
    });
    d.#every(5_000, () => d.#pingStore());
    d.#heartbeat?.start();
    if (opts.config.server.actionSecret && !opts.config.server.publicUrl) {
      d.log.warn('server.action_secret is set but server.public_url is not: alerts carry no Acknowledge links until it is');
    }
    const open = [...d.#state.incidents.values()].filter((i) => i.state !== 'resolved').length;
    d.log.info(
      { probes: d.#probes.size, open_incidents: open, store: storeLabel(opts.config.store), listen: opts.listen === false ? null : opts.config.server.listen, replica: cluster?.replica },
      `vigil watching ${plural(d.#probes.size, 'probe')} from ${opts.config.file}`,
    );
    return d;
  }

  get config(): Config {
    return this.#config;
  }
  get state(): EngineState {
    return this.#state;
  }

  /** Swaps in a new, already validated config. Listen address and store path need a restart. */
  reload(config: Config): void {
    if (config.server.listen !== this.#config.server.listen || storeLabel(config.store) !== storeLabel(this.#config.store) || config.store.postgres?.url !== this.#config.store.postgres?.url) {
      this.log.warn('server.listen and store changes take effect at the next restart');
    }
    // Computed before anything is swapped, so a throw here leaves the running config whole.
    const engineCfg = engineConfigOf(config, this.#silences.current());
    this.#config = config;
    this.#engineCfg = engineCfg;
    this.#transports.update(config);
    this.#updateDiscord(config);
    if (this.#updateOncall(config) && this.#leader) this.#oncallSync?.start();
    this.#applyConfig(config);
    this.log.info({ probes: this.#probes.size }, `config reloaded from ${config.file}`);
    for (const incident of this.#state.incidents.values()) {
      if (incident.state === 'resolved' || this.#probes.has(incident.rootProbe) || incident.rootProbe === REPLICA_PROBE_ID) continue;
      // Nothing runs its root any more, so nothing will resolve it: say so rather than let it sit.
      this.log.warn(
        { incident_id: incident.id, probe: incident.rootProbe },
        `incident #${incident.id} stays open: its probe "${incident.rootProbe}" is no longer in the config or enabled; resolve it by hand (vigil resolve ${incident.id} --by NAME)`,
      );
    }
  }

  /** An operator's ack/resolve/note, applied through the engine like any other change. */
  dispatch(cmd: Command): CommandResult {
    return this.#command(cmd);
  }

  /** Whether this vigil runs the engine and the outbox now (always, unless it is a standby replica). */
  get leading(): boolean {
    return this.#leader;
  }

  /** An ack/resolve/note from the API: applied here when this replica leads, else queued for the leader. */
  #dispatchAnywhere(cmd: Command): CommandAnswer | Promise<CommandAnswer> {
    const cluster = this.#cluster;
    if (!cluster || this.#leader) return this.dispatch(cmd);
    return cluster.forward(cmd).then(
      (answer) => {
        const a = answer as { ok?: unknown; code?: unknown; message?: unknown };
        if (a.ok === true) {
          const incident = this.store.getIncident(cmd.incidentId);
          if (incident) return { ok: true, incident };
          return { ok: false, code: 'not_found', message: `incident #${cmd.incidentId} not found` };
        }
        const code = a.code === 'not_found' ? 'not_found' : 'conflict';
        return { ok: false, code, message: typeof a.message === 'string' ? a.message : 'the leader refused the command' };
      },
      (err: unknown) => {
        throw new ApiError(503, 'no_leader', (err as Error).message);
      },
    );
  }

  /** The leader applies what standbys queued; the answer they get back is the result without the state. */
  async #drainCommands(): Promise<void> {
    if (!this.#leader || !this.#cluster) return;
    await this.#cluster.drain((cmd) => {
      const result = this.dispatch(cmd as Command);
      return result.ok ? { ok: true, incidentId: result.incident.id } : { ok: false, code: result.code, message: result.message };
    });
  }

  /** The engine state /status shows: this vigil's own while it leads, else what the store holds. */
  #viewState(): EngineState {
    if (this.#leader) return this.#state;
    const now = this.#now();
    if (this.#standbyState && now - this.#standbyState.at < STANDBY_STATE_MS) return this.#standbyState.state;
    try {
      this.#standbyState = { at: now, state: initialState(this.store.loadEngineState(now - REOPEN_WINDOW_MS)) };
    } catch (err) {
      this.log.warn({ err: { message: (err as Error).message } }, 'cluster: cannot read the engine state from the store: /status shows what this replica read last');
      if (!this.#standbyState) return this.#state;
    }
    return this.#standbyState.state;
  }

  /** Starts leading: the state the last leader left in the store, then the engine's ticks and the outbox. */
  #lead(): void {
    if (this.#cluster) {
      try {
        this.#state = initialState(this.store.loadEngineState(this.#now() - REOPEN_WINDOW_MS));
        this.#shown = {};
        this.#silences.refresh();
      } catch (err) {
        // Leading on a state not read would open again what is open: try again at the next interval.
        this.log.error({ err: { message: (err as Error).message } }, 'cluster: cannot load the engine state from the store: not leading yet');
        return;
      }
      this.#outbox = this.#newOutbox();
      this.#oncallKey = '';
      this.#updateOncall(this.#config);
      this.#shardSeen.clear();
      this.metrics.clusterLeader.set({ replica: this.#cluster.name }, 1);
      this.log.info({ replica: this.#cluster.name }, `cluster: replica ${this.#cluster.name} leads: engine and outbox started`);
      void this.#cluster.beat();
    }
    this.#leader = true;
    this.#outbox.start();
    this.#oncallSync?.start();
    // Reminders and maintenance ends due while nobody led go out now, not at the next tick.
    if (this.#cluster) this.#tick();
  }

  /** Stops leading at once: nothing more is stepped or sent here; the new leader carries on from the store. */
  #standDown(): void {
    if (!this.#leader) return;
    this.#leader = false;
    this.#standbyState = null;
    if (this.#cluster) this.metrics.clusterLeader.set({ replica: this.#cluster.name }, 0);
    void this.#outbox.stop();
    void this.#oncallSync?.stop();
    this.log.warn({ replica: this.#cluster?.name }, 'cluster: this replica no longer leads: engine and outbox stopped, probing on as a standby');
  }

  #newOutbox(): Outbox {
    const config = this.#config;
    return new Outbox({ store: this.store, sinks: this.#sinks, metrics: this.metrics, log: this.log, now: this.#now, maxAgeMs: config.alerts.maxAgeMs, pollMs: 1_000, stopTimeoutMs: STOP_OUTBOX_MS, mayDeliver: () => this.#leader });
  }

  /** Any engine command, triage's evidence included, committed like a probe run's step. */
  #command(cmd: EngineCommand): CommandResult {
    if (!this.#leader) return { ok: false, code: 'conflict', message: 'this replica does not lead the cluster now; try again' };
    const result = engineCommand(this.#state, cmd, this.#now(), this.#engineCfg);
    // An ack the store did not keep must not be answered as done: the reminders would go on.
    if (result.ok && !this.#commit(result)) throw new StoreWriteError();
    return result;
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    await this.#heartbeat?.stop();
    await this.#oncallSync?.stop();
    // A run cut short here is discarded (#runOne), so the wait need not cover the longest timeout.
    await this.#scheduler.stop(Math.min(STOP_PROBES_MS, Math.max(...[...this.#probes.values()].map((p) => p.timeoutMs), 1_000)));
    await this.app.close();
    // Before the transports and the store close under it; held messages go out at their hold time.
    await this.#triage.stop();
    // A pool still lending a client to an abandoned run would wait for it forever; the process exits anyway.
    await Promise.race([this.#transports.close().catch((err: unknown) => this.log.warn({ err }, 'closing connections failed')), sleep(STOP_TRANSPORTS_MS)]);
    await this.#outbox.stop();
    // Last, so no replica leads while this one still sends: its session ends and the lock is free.
    await this.#cluster?.stop();
    this.store.close();
    this.log.info('vigil stopped');
  }

  #applyConfig(config: Config): void {
    const runnable = config.probes.filter((p) => p.enabled && isRunnable(p.type));
    for (const p of config.probes) {
      if (p.enabled && !isRunnable(p.type)) this.log.warn({ probe: p.id, type: p.type }, `probe type "${p.type}" is not available in this version: probe not scheduled`);
    }
    const previous = this.#probes;
    this.#probes = new Map(runnable.map((p) => [p.id, p]));
    const cluster = this.#cluster;
    // In shard mode each replica runs its share; the leader steps the others' from their results.
    const scheduled = cluster ? runnable.filter((p) => cluster.runs(p.id)) : runnable;
    this.#scheduled = scheduled.length;
    prepareProbeTypes(scheduled);
    for (const id of this.#memory.keys()) if (!this.#probes.has(id)) this.#memory.delete(id);
    // From now on a push probe's job is expected to ping; a probe already watched keeps its clock.
    for (const p of runnable) if (p.type === 'push') this.store.watchPush(p.id, this.#now());
    for (const [id, old] of previous) {
      const now = this.#probes.get(id);
      if (!now || now.type !== old.type || now.environment !== old.environment || now.service !== old.service) forgetProbe(this.metrics, old);
    }
    this.#scheduler.schedule(scheduled);
  }

  async #runOne(id: string, signal: AbortSignal): Promise<void> {
    const probe = this.#probes.get(id);
    if (!probe) return;
    const seq = (this.#runSeq.get(id) ?? 0) + 1;
    this.#runSeq.set(id, seq);
    let memory = this.#memory.get(id);
    if (!memory) this.#memory.set(id, (memory = new LazyMemory()));
    const run = await runProbe(probe, signal, this.log, this.#transports, this.#now, { memory, pushes: this.store });
    if (this.#probes.get(id) !== probe) return; // reloaded away while running
    // The scheduler abandons a run that ignores its timeout; if it ends after a newer run began, it is stale.
    if (this.#runSeq.get(id) !== seq) return;
    // Aborted by shutdown, not by its timeout: the failure says nothing about the target.
    if (signal.aborted && !(signal.reason instanceof TimeoutError)) return;
    this.#record(probe, run);
    this.#lastChecked.set(id, run.startedAt + run.durationMs);
    let findings = run.findings;
    const cluster = this.#cluster;
    if (cluster) {
      const own = { probe: id, at: run.startedAt, findings: run.findings };
      await cluster.record(own);
      if (!this.#leader) return;
      findings = await cluster.merged(own, this.#voteWindow(probe));
      if (!this.#leader || this.#probes.get(id) !== probe || this.#runSeq.get(id) !== seq) return;
    }
    this.#judge(probe, run.startedAt, findings);
  }

  /** The leader's step for one probe's (merged) findings, and its uptime sample. */
  #judge(probe: ResolvedProbe, at: number, findings: Finding[]): void {
    this.store.recordRun({ probe: probe.id, environment: probe.environment, service: probe.service, ok: findings.every((f) => f.ok), at });
    this.#commit(step(this.#state, { probe: probe.id, findings }, this.#now(), this.#engineCfg));
  }

  /** Replicas that ran a probe within this long vote on it: one interval, its timeout, and a heartbeat's slack. */
  #voteWindow(probe: ResolvedProbe): number {
    return probe.intervalMs + probe.timeoutMs + (this.#cluster?.config.intervalMs ?? 0);
  }

  /** The replicas' recent results, read by the leader; null when it does not lead (or no longer, once read). */
  async #leaderResults(): Promise<{ cluster: Cluster; rows: ReplicaResult[]; windowMs: number } | null> {
    const cluster = this.#cluster;
    if (!cluster || !this.#leader) return null;
    const windowMs = Math.max(0, ...[...this.#probes.values()].map((p) => this.#voteWindow(p)));
    const rows = await cluster.recentResults(windowMs);
    return rows && this.#leader ? { cluster, rows, windowMs } : null;
  }

  /** The leader's look at the replicas: one that alone sees every probe it runs fail is cut off (an S3). */
  async #judgeReplicas(): Promise<void> {
    // Holding the lock without leading: the state could not be loaded when it was taken. Again now.
    if (this.#cluster?.leading && !this.#leader) this.#lead();
    // A silence added or expired on a standby went into the store; the engine hears of it here.
    try {
      if (this.#leader) this.#silences.refresh();
    } catch (err) {
      this.log.warn({ err: { message: (err as Error).message } }, 'cluster: cannot read the silences from the store');
    }
    const read = await this.#leaderResults();
    if (!read) {
      // Not leading (or the results could not be read): streaks may end and start again unseen, so
      // the next look starts them afresh rather than from a start that may no longer hold.
      this.#streaks = new Map();
      return;
    }
    this.#streaks = streaks(this.#streaks, read.rows);
    const findings = replicaFindings(read.cluster.live(), read.rows, { now: this.#now(), windowMs: read.windowMs, quorum: read.cluster.config.quorum, streaks: this.#streaks });
    this.#commit(step(this.#state, { probe: REPLICA_PROBE_ID, findings }, this.#now(), this.#engineCfg));
  }

  /** Shard mode, on the leader: steps the probes other replicas run, from the results they wrote. */
  async #followShards(): Promise<void> {
    const read = await this.#leaderResults();
    if (!read) return;
    const { cluster, rows } = read;
    const byProbe = new Map<string, typeof rows>();
    for (const r of rows) {
      if (r.replica === cluster.name) continue;
      const list = byProbe.get(r.probe);
      if (list) list.push(r);
      else byProbe.set(r.probe, [r]);
    }
    for (const [id, list] of byProbe) {
      const probe = this.#probes.get(id);
      // A probe this replica runs itself is judged when its own run ends.
      if (!probe || cluster.runs(id)) continue;
      const latest = Math.max(...list.map((r) => r.at));
      if (latest <= (this.#shardSeen.get(id) ?? -Infinity)) continue;
      this.#shardSeen.set(id, latest);
      const findings = mergeFindings(list, { now: this.#now(), windowMs: this.#voteWindow(probe), quorum: cluster.config.quorum }).findings;
      this.#lastChecked.set(id, latest);
      this.#judge(probe, latest, findings);
    }
  }

  #record(probe: ResolvedProbe, run: ProbeRun): void {
    const ok = run.findings.every((f) => f.ok);
    observeProbeRun(this.metrics, probe, run.outcome, run.durationMs / 1000, ok);
    observeRun(probe, run.findings, this.metrics);
    if (!ok) {
      const failed = run.findings.filter((f) => !f.ok).map((f) => ({ key: f.key, message: f.message }));
      this.log.debug({ probe: probe.id, outcome: run.outcome, failed }, 'probe failed');
    }
  }

  #tick(): void {
    this.#commit(tick(this.#state, this.#now(), this.#engineCfg));
  }

  /** Writes an engine step's changes and the messages it causes in one transaction, then logs it; false when the store refused. */
  #commit(result: StepResult): boolean {
    const { changed, events } = result;
    if (changed.subjects.length === 0 && changed.incidents.length === 0 && changed.timeline.length === 0 && events.length === 0) {
      this.#state = result.state;
      return true;
    }
    const channels = this.#channels();
    const at = this.#now();
    const routed = events.map((event) => ({ event, routes: route(event, channels) }));
    // An opening whose incident has triage steps holds its embed and console line for the summary.
    const triage = new Map<IncidentEvent, TriageStep[]>();
    for (const { event } of routed) {
      const incident = startsTriage(event) ? result.state.incidents.get(event.incidentId) : undefined;
      const steps = incident ? planTriage(incident, this.#config) : [];
      if (steps.length > 0) triage.set(event, steps);
    }
    const messages = routed.flatMap(({ event, routes }) =>
      routes.map((m): NewMessage => ({
        ...m,
        createdAt: at,
        incidentId: event.incidentId,
        event: event.type,
        ...(triage.has(event) && waitsForTriage(m) ? { holdUntil: at + TRIAGE_HOLD_MS } : {}),
      })),
    );
    let stored;
    try {
      stored = this.store.apply({ ...changed, messages, events });
    } catch (err) {
      // The state is not advanced, so the same transition is attempted again on the next run.
      this.#storeHealthy = false;
      this.log.error({ err }, 'store write failed: incident changes not recorded');
      return false;
    }
    if (showsChange(this.#state, changed)) this.#shown = {};
    this.#state = result.state;
    for (const { event, routes } of routed) {
      if (event.type === 'opened' || event.type === 'reopened') {
        this.metrics.incidentsOpened.inc({ environment: event.environment, severity: event.severity });
      }
      // Every event is one structured log line (docs/messages.md). When the console sink carries it, that
      // sink's line is the one (delivered through the outbox, so it survives a crash); else log here.
      if (!routes.some((r) => r.sink === CONSOLE_SINK)) {
        const line = eventLogLine(event);
        this.log[line.level]({ ...line.fields, detail: event.detail }, line.msg);
      }
    }
    if (messages.length > 0) this.#outbox.kick();
    for (const [event, steps] of triage) {
      const held = stored.filter((m, i) => messages[i]?.holdUntil !== undefined && m.incidentId === event.incidentId && m.event === event.type).map((m) => m.id);
      this.#triage.start(event.incidentId, steps, held);
    }
    return true;
  }

  #channels(): RouteChannels {
    const d = this.#config.alerts.discord;
    const oncall = this.#config.alerts.oncall;
    return {
      discord: { errors: d.errors !== null, warnings: d.warnings !== null, ops: d.ops !== null },
      oncall: oncall
        ? { severities: (['S1', 'S2'] as const).filter((s): s is Severity & ('S1' | 'S2') => oncall.severities[s] !== undefined), escalateTo: escalationTarget(oncall) }
        : null,
    };
  }

  /**
   * A (new) Better Stack on-call sink and sync when their settings changed; true when a new sync
   * was made (the caller starts it). Without the settings, queued calls are given up as dead letters.
   */
  #updateOncall(config: Config): boolean {
    const key = oncallKey(config);
    if (key === this.#oncallKey) return false;
    this.#oncallKey = key;
    void this.#oncallSync?.stop();
    this.#oncallSync = null;
    const oncall = config.alerts.oncall;
    if (!oncall) {
      this.#sinks.delete(ONCALL_SINK);
      return false;
    }
    this.#sinks.set(ONCALL_SINK, oncallSink({ config: oncall, publicUrl: config.server.publicUrl, store: this.store, log: this.log, now: this.#now }));
    this.#oncallSync = new OncallSync({
      config: oncall,
      store: this.store,
      incident: (id) => this.#state.incidents.get(id),
      dispatch: (cmd) => this.dispatch(cmd),
      log: this.log,
      now: this.#now,
    });
    return true;
  }

  /** A (new) Discord sink when the webhooks changed; a reload thus also revives a webhook marked dead. */
  #updateDiscord(config: Config): void {
    const key = discordKey(config);
    if (key === this.#discordKey) return;
    this.#discordKey = key;
    const { errors, warnings, ops } = config.alerts.discord;
    if (errors === null && warnings === null && ops === null) this.#sinks.delete(DISCORD_SINK);
    else this.#sinks.set(DISCORD_SINK, discordSink({ webhooks: { errors, warnings, ops }, publicUrl: config.server.publicUrl, actionSecret: config.server.actionSecret, mentionRole: config.alerts.discord.mentionRole ?? null, log: this.log }));
  }

  /** The heartbeat goes out only while probes run on time and the store takes a write right now. */
  #heartbeatHealth(): { ok: boolean; reason?: string } {
    if (!this.#scheduler.healthy()) return { ok: false, reason: 'the scheduler is behind or stopped' };
    this.#pingStore();
    if (!this.#storeHealthy || this.store.writesFailing()) return { ok: false, reason: 'the store does not write' };
    return { ok: true };
  }

  #pingStore(): void {
    try {
      this.store.ping(this.#now());
      this.#storeHealthy = true;
    } catch (err) {
      this.#storeHealthy = false;
      this.log.error({ err }, 'store does not write');
    }
  }

  #every(ms: number, fn: () => void): void {
    const t = setInterval(() => {
      try {
        fn();
      } catch (err) {
        this.log.error({ err }, 'periodic task failed');
      }
    }, ms);
    t.unref();
    this.#timers.push(t);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** A probe's memory, its Map made at the first note: most probes (http without p99) keep none. */
class LazyMemory implements ProbeMemory {
  #notes: Map<string, unknown> | undefined;
  get(key: string): unknown {
    return this.#notes?.get(key);
  }
  set(key: string, value: unknown): this {
    (this.#notes ??= new Map()).set(key, value);
    return this;
  }
}

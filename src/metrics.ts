// Every Prometheus metric vigil exposes (docs/metrics.md), defined in one place.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  probeSuccess: Gauge<'probe' | 'type' | 'environment' | 'service'>;
  probeDuration: Histogram<'probe' | 'type'>;
  probeRuns: Counter<'probe' | 'type' | 'outcome'>;
  incidentsOpen: Gauge<'environment' | 'severity'>;
  incidentsOpened: Counter<'environment' | 'severity'>;
  notifications: Counter<'sink' | 'channel' | 'outcome'>;
  outboxPending: Gauge;
  schedulerLag: Histogram;
  buildInfo: Gauge<'version'>;
  pgConnections: Gauge<'database'>;
  pgMaxConnections: Gauge<'database'>;
  pgLongQueries: Gauge<'database'>;
  pgLongestQuery: Gauge<'database'>;
  containerUp: Gauge<'host' | 'service'>;
  redisQueueLength: Gauge<'probe' | 'queue'>;
  backupAge: Gauge<'probe'>;
  backupSize: Gauge<'probe'>;
  logRecordsDropped: Counter;
  heartbeats: Counter<'outcome'>;
  storeWriteFailures: Counter;
  incidentUnacknowledged: Gauge<'environment' | 'severity'>;
  clusterLeader: Gauge<'replica'>;
  /** What vigil_incident_unacknowledged_seconds reads at each scrape; the daemon sets `read`. */
  unacknowledged: { read: (() => Array<{ environment: string; severity: string; seconds: number }>) | null };
}

export function createMetrics(version: string, opts: { defaults?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.defaults !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const unacknowledged: Metrics['unacknowledged'] = { read: null };
  const m: Metrics = {
    registry,
    probeSuccess: new Gauge({
      name: 'vigil_probe_success',
      help: 'Whether the last run of the probe passed (1) or failed (0).',
      labelNames: ['probe', 'type', 'environment', 'service'],
      registers,
    }),
    probeDuration: new Histogram({
      name: 'vigil_probe_duration_seconds',
      help: 'How long probe runs took.',
      labelNames: ['probe', 'type'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    probeRuns: new Counter({
      name: 'vigil_probe_runs_total',
      help: 'Probe runs by outcome (success, failure, error, timeout).',
      labelNames: ['probe', 'type', 'outcome'],
      registers,
    }),
    incidentsOpen: new Gauge({
      name: 'vigil_incidents_open',
      help: 'Incidents currently open or acknowledged.',
      labelNames: ['environment', 'severity'],
      registers,
    }),
    incidentsOpened: new Counter({
      name: 'vigil_incidents_opened_total',
      help: 'Incidents opened (reopenings included).',
      labelNames: ['environment', 'severity'],
      registers,
    }),
    notifications: new Counter({
      name: 'vigil_notifications_total',
      help: 'Outbound notification attempts by sink, channel and outcome.',
      labelNames: ['sink', 'channel', 'outcome'],
      registers,
    }),
    outboxPending: new Gauge({
      name: 'vigil_outbox_pending',
      help: 'Messages stored and not yet delivered or given up.',
      registers,
    }),
    schedulerLag: new Histogram({
      name: 'vigil_scheduler_lag_seconds',
      help: 'Delay between when a probe run was due and when it started.',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    buildInfo: new Gauge({
      name: 'vigil_build_info',
      help: 'Always 1; the version label says which vigil is running.',
      labelNames: ['version'],
      registers,
    }),
    pgConnections: new Gauge({
      name: 'vigil_pg_connections',
      help: 'Client connections to the database at the last pg_connections run.',
      labelNames: ['database'],
      registers,
    }),
    pgMaxConnections: new Gauge({
      name: 'vigil_pg_max_connections',
      help: 'Connections the database accepts from ordinary clients (max_connections minus reserved slots).',
      labelNames: ['database'],
      registers,
    }),
    pgLongQueries: new Gauge({
      name: 'vigil_pg_long_queries',
      help: 'Client queries running longer than the probe allows, at the last pg_long_queries run.',
      labelNames: ['database'],
      registers,
    }),
    pgLongestQuery: new Gauge({
      name: 'vigil_pg_longest_query_seconds',
      help: 'Age of the oldest non-idle client query at the last pg_long_queries run.',
      labelNames: ['database'],
      registers,
    }),
    containerUp: new Gauge({
      name: 'vigil_container_up',
      help: 'Whether the compose service is running and not unhealthy (1) or not (0), at the last compose_ps run.',
      labelNames: ['host', 'service'],
      registers,
    }),
    redisQueueLength: new Gauge({
      name: 'vigil_redis_queue_length',
      help: 'Length of the Redis list (a Celery queue) at the last redis run.',
      labelNames: ['probe', 'queue'],
      registers,
    }),
    backupAge: new Gauge({
      name: 'vigil_backup_age_seconds',
      help: 'Age of the newest backup object at the last backup run.',
      labelNames: ['probe'],
      registers,
    }),
    backupSize: new Gauge({
      name: 'vigil_backup_size_bytes',
      help: 'Size of the newest backup object at the last backup run.',
      labelNames: ['probe'],
      registers,
    }),
    logRecordsDropped: new Counter({
      name: 'vigil_log_records_dropped_total',
      help: 'Log records Better Stack never got: given up after the transport retried, or while it was down.',
      registers,
    }),
    storeWriteFailures: new Counter({
      name: 'vigil_store_write_failures_total',
      help: 'Writes the store refused (disk full, I/O error, PostgreSQL unreachable); incident changes wait in memory meanwhile.',
      registers,
    }),
    heartbeats: new Counter({
      name: 'vigil_heartbeats_total',
      help: 'Heartbeat intervals by outcome (sent, failed, withheld while the scheduler or store is unhealthy).',
      labelNames: ['outcome'],
      registers,
    }),
    clusterLeader: new Gauge({
      name: 'vigil_cluster_leader',
      help: 'Whether this replica leads its cluster (1) or stands by (0); absent when vigil runs alone.',
      labelNames: ['replica'],
      registers,
    }),
    incidentUnacknowledged: new Gauge({
      name: 'vigil_incident_unacknowledged_seconds',
      help: 'How long the longest-waiting open, paged, unacknowledged incident has waited, by environment and severity.',
      labelNames: ['environment', 'severity'],
      registers,
      // Read at scrape time, so the value is current and an acknowledged incident's series disappears.
      // Without a reader (a registry on its own, in tests) the gauge keeps whatever was set directly.
      collect() {
        if (!unacknowledged.read) return;
        this.reset();
        for (const s of unacknowledged.read()) this.set({ environment: s.environment, severity: s.severity }, s.seconds);
      },
    }),
    unacknowledged,
  };
  m.buildInfo.set({ version }, 1);
  return m;
}

const RUN_OUTCOMES = ['success', 'failure', 'error', 'timeout'] as const;

type ProbeLabelled = { id: string; type: string; environment: string; service: string };
interface ProbeLabels {
  run: { probe: string; type: string };
  success: { probe: string; type: string; environment: string; service: string };
  outcome: Map<string, { probe: string; type: string; outcome: string }>;
}
/**
 * Each probe's label sets, made once per probe object (a reload makes new ones) instead of three per
 * run; prom-client keeps the first label object it sees for a series, so these are those objects.
 */
const labelSets = new WeakMap<ProbeLabelled, ProbeLabels>();

/** A run's vigil_probe_runs_total, vigil_probe_duration_seconds and vigil_probe_success. */
export function observeProbeRun(m: Metrics, probe: ProbeLabelled, outcome: (typeof RUN_OUTCOMES)[number], seconds: number, ok: boolean): void {
  let labels = labelSets.get(probe);
  if (!labels) {
    // Literals, not spreads: in the daemon (spreads of many shapes) each spread's result got a hidden
    // class of its own, some 250 bytes per label set (seen in a heap snapshot at 1,000 probes).
    const run = { probe: probe.id, type: probe.type };
    labels = { run, success: { probe: probe.id, type: probe.type, environment: probe.environment, service: probe.service }, outcome: new Map() };
    labelSets.set(probe, labels);
  }
  let byOutcome = labels.outcome.get(outcome);
  if (!byOutcome) labels.outcome.set(outcome, (byOutcome = { probe: probe.id, type: probe.type, outcome }));
  m.probeRuns.inc(byOutcome);
  m.probeDuration.observe(labels.run, seconds);
  m.probeSuccess.set(labels.success, ok ? 1 : 0);
}

/**
 * Drops every series of a probe that is no longer run (reloaded away, disabled, or relabelled), so
 * an alert on vigil_probe_success does not go on firing for a probe that no longer exists.
 */
export function forgetProbe(m: Metrics, probe: { id: string; type: string; environment: string; service: string }): void {
  const labels = { probe: probe.id, type: probe.type };
  m.probeSuccess.remove({ ...labels, environment: probe.environment, service: probe.service });
  m.probeDuration.remove(labels);
  for (const outcome of RUN_OUTCOMES) m.probeRuns.remove({ ...labels, outcome });
}

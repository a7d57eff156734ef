// The columns both stores write whole, and the upsert clause that replaces every one of them.

export const INCIDENT_COLUMNS = [
  'id', 'state', 'severity', 'environment', 'service', 'summary', 'root_probe', 'root_key', 'symptoms',
  'opened_at', 'acknowledged_at', 'acknowledged_by', 'resolved_at', 'respond_by', 'last_reminder_at', 'message',
  'evidence', 'detected_at', 'maintenance', 'former_roots', 'paged_severity',
] as const;

export const SUBJECT_COLUMNS = ['key', 'probe', 'ok', 'failures', 'successes', 'severity', 'since', 'incident_id'] as const;

/** `ON CONFLICT (key) DO UPDATE SET a = excluded.a, …` for every column but the key (the same in SQLite and PostgreSQL). */
export function upsertClause(columns: readonly string[], key: string): string {
  const set = columns.filter((c) => c !== key).map((c) => `${c} = excluded.${c}`);
  return `ON CONFLICT (${key}) DO UPDATE SET ${set.join(', ')}`;
}

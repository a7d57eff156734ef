// `vigil incidents`: lists incidents from the store (works beside a running daemon: SQLite WAL).
import { outage, outageText } from '../incidents/durations.js';
import { incidentJson, scrubSecrets, secretsOf } from '../server/serialize.js';
import type { Incident } from '../types.js';
import { storeLabel } from '../store/configured.js';
import { EXIT_CONFIG, loadForReading, openExistingStore, readStore } from './config.js';

export interface IncidentsOptions {
  open: boolean;
  json: boolean;
}

export async function incidentsCommand(path: string, opts: IncidentsOptions): Promise<number> {
  const config = loadForReading(path);
  if (!config) return EXIT_CONFIG;
  const store = openExistingStore(config);
  if (!store) return 1;
  const incidents = readStore(store, storeLabel(config.store), (s) => s.listIncidents(opts.open ? { state: 'open', limit: 500 } : { limit: 500 }));
  if (!incidents) return 1;
  const text = opts.json ? `${JSON.stringify({ incidents: incidents.map((i) => incidentJson(i, Date.now())) }, null, 2)}\n` : formatIncidents(incidents, Date.now());
  // Stored text comes from probes and people: hidden from a terminal like from the HTTP API.
  process.stdout.write(scrubSecrets(text, secretsOf(config)));
  return 0;
}

export function formatIncidents(incidents: Incident[], now: number): string {
  if (incidents.length === 0) return 'No incidents.\n';
  const rows = incidents.map((i) => {
    return [
      `#${i.id}`,
      i.severity,
      i.state,
      i.environment,
      i.service,
      new Date(i.openedAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      outageText(outage(i, now)),
      i.summary,
    ];
  });
  const header = ['ID', 'SEV', 'STATE', 'ENVIRONMENT', 'SERVICE', 'OPENED (UTC)', 'FOR', 'SUMMARY'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) => cells.map((cell, c) => (c === cells.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ');
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

// Commands on incidents (an operator's ack, resolve, note; triage's evidence) as pure transitions with 404/409 answers.
import { Draft } from './draft.js';
import { outage } from './durations.js';
import { resolve } from './lifecycle.js';
import type { CommandResult, EngineCommand, EngineConfig, EngineState } from './state.js';
import { formatDuration } from './wording.js';

const viaText = (via: string | undefined): string => (via === undefined ? '' : ` (via ${via})`);

/** Evidence kept per incident: a flapping incident gathers triage at every reopening, and must not grow without end. */
export const MAX_EVIDENCE_ITEMS = 100;

/**
 * Applies an operator's command. The engine state holds only active incidents and those resolved
 * within the reopen window, so an id it does not hold — unknown, or resolved long ago — answers
 * not_found, a note on an old incident included. A caller that wants to annotate history must go to
 * the store itself; the engine never reads it.
 */
export function command(state: EngineState, cmd: EngineCommand, now: number, cfg: EngineConfig): CommandResult {
  const incident = state.incidents.get(cmd.incidentId);
  if (!incident) {
    return { ok: false, code: 'not_found', message: `incident ${cmd.incidentId} is not open or recently resolved` };
  }
  const d = new Draft(state, now);
  const since = formatDuration(outage(incident, now).currentMs);

  switch (cmd.type) {
    case 'ack': {
      if (incident.state !== 'open') {
        return { ok: false, code: 'conflict', message: `incident ${incident.id} is already ${incident.state}` };
      }
      d.patchIncident(incident.id, { state: 'acknowledged', acknowledgedAt: now, acknowledgedBy: cmd.by });
      const via = cmd.via === undefined ? {} : { via: cmd.via };
      d.announce(incident.id, 'acknowledged', { detail: `Acknowledged by ${cmd.by}${viaText(cmd.via)} after ${since}`, by: cmd.by, ...via });
      break;
    }
    case 'resolve': {
      if (incident.state === 'resolved') {
        return { ok: false, code: 'conflict', message: `incident ${incident.id} is already resolved` };
      }
      if (cmd.note !== undefined && cmd.note.trim() !== '') {
        d.announce(incident.id, 'note', { detail: cmd.note, by: cmd.by });
      }
      resolve(d, d.incident(incident.id)!, cfg, { detail: `Resolved by ${cmd.by}${viaText(cmd.via)} after ${since}`, by: cmd.by, ...(cmd.via === undefined ? {} : { via: cmd.via }) });
      break;
    }
    case 'note': {
      d.announce(incident.id, 'note', { detail: cmd.text, by: cmd.by });
      break;
    }
    case 'evidence': {
      // Allowed on a recently resolved incident too: triage that finished late still explains it.
      if (cmd.items.length === 0) break;
      const all = [...incident.evidence, ...cmd.items];
      // The first item (the root finding's own evidence) is what the review's root cause quotes: kept.
      const evidence = all.length <= MAX_EVIDENCE_ITEMS ? all : [all[0]!, ...all.slice(all.length - MAX_EVIDENCE_ITEMS + 1)];
      d.patchIncident(incident.id, { evidence });
      break;
    }
  }
  const result = d.result();
  return { ok: true, incident: result.state.incidents.get(incident.id)!, ...result };
}

import type { RunEventRow } from './runs.ts';
import type { Queryable } from './pool.ts';

// Run status changes of one project, in run_events id order, for the project event stream.
//
// run_events.id is taken from a sequence when a row is inserted, not when it commits, so ids
// become visible out of order: id 10 may be visible while id 9's transaction is still open. A
// reader that moved its cursor past 10 would never see 9. So a reader delivers events only up
// to a "settled" id: it records marks (the current snapshot and the last id handed out) and
// treats a mark as settled once every transaction that was in progress at its snapshot has
// ended; every id up to that mark's last id is then visible or will never be (rolled back).
// This relies on each run_events insert happening after its transaction already had an id
// (the triggers of 0002 insert after writing runs), which holds for every writer we have.

/** A run's event as the project stream carries it: which run, of which job. */
export interface ProjectEventRow extends RunEventRow {
  run_id: number;
  job_name: string | null;
}

export interface EventMark {
  snapshot: string;
  lastId: number;
  takenAt: number;
}

// name: eventsMark
// $1 snapshots of earlier marks (text). Returns a new mark (snapshot and the last id handed
// out) and, per earlier snapshot, whether every transaction in progress in it has ended.
const EVENTS_MARK_SQL = `
SELECT pg_current_snapshot()::text AS snapshot,
       cardinality(ARRAY(SELECT pg_snapshot_xip(pg_current_snapshot()))) = 0 AS quiet,
       (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM hostrun.run_events_id_seq) AS last_id,
       ARRAY(SELECT coalesce((SELECT bool_and(pg_visible_in_snapshot(x, pg_current_snapshot()))
                                FROM pg_snapshot_xip(s::pg_snapshot) AS x), true)
               FROM unnest($1::text[]) WITH ORDINALITY AS m(s, i) ORDER BY i) AS settled`;

/** Marks still pending are kept this long at most: a transaction open longer is not one of ours. */
const MARK_MAX_AGE_MS = 10_000;

export class EventWatermark {
  private pending: EventMark[] = [];
  /** Every event with an id up to this one is visible (or never will be). */
  settledId: number;

  constructor(startId: number) {
    this.settledId = startId;
  }

  /** Takes a new mark and advances settledId over every settled one; true while marks remain open. */
  async advance(db: Queryable, now = Date.now()): Promise<boolean> {
    const { rows } = await db.query<{ snapshot: string; quiet: boolean; last_id: number; settled: boolean[] }>(EVENTS_MARK_SQL, [
      this.pending.map((m) => m.snapshot),
    ]);
    const row = rows[0]!;
    // The newest settled mark settles every older one too: a transaction still open would be
    // in the newer snapshot as well.
    let lastSettled = -1;
    row.settled.forEach((settled, i) => {
      if (settled || now - this.pending[i]!.takenAt > MARK_MAX_AGE_MS) lastSettled = i;
    });
    for (const mark of this.pending.splice(0, lastSettled + 1)) this.settledId = Math.max(this.settledId, mark.lastId);
    const lastId = Number(row.last_id);
    if (row.quiet) {
      this.settledId = Math.max(this.settledId, lastId);
      this.pending = [];
    } else if (lastId > this.settledId && lastId !== this.pending.at(-1)?.lastId) {
      // An older mark with the same last id settles it at least as soon as a newer one would.
      this.pending.push({ snapshot: row.snapshot, lastId, takenAt: now });
    }
    return this.pending.length > 0;
  }
}

// name: eventsLastId
// No parameters. The last run_events id handed out: where a stream "from now" starts.
const EVENTS_LAST_ID_SQL = `SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS id FROM hostrun.run_events_id_seq`;

export async function eventsLastId(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ id: number }>(EVENTS_LAST_ID_SQL);
  return Number(rows[0]?.id ?? 0);
}

// name: projectEventsBetween
// $1 project id, $2 after this id, $3 up to and including this id, $4 limit.
const PROJECT_EVENTS_BETWEEN_SQL = `
SELECT e.id, e.run_id, r.job_name, e.attempt, e.from_status, e.to_status, e.worker_id, e.at, e.message
  FROM hostrun.run_events e LEFT JOIN hostrun.runs r ON r.id = e.run_id
 WHERE e.project_id = $1 AND e.id > $2 AND e.id <= $3
 ORDER BY e.id
 LIMIT $4`;

export async function projectEventsBetween(db: Queryable, projectId: string, afterId: number, upToId: number, limit: number): Promise<ProjectEventRow[]> {
  const { rows } = await db.query<ProjectEventRow>(PROJECT_EVENTS_BETWEEN_SQL, [projectId, afterId, upToId, limit]);
  return rows;
}

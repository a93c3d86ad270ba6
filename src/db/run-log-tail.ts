import type { Queryable } from './pool.ts';
import type { RunLogRow } from './runs.ts';

// The end of a run's log, for a viewer that shows the newest lines first and streams on from
// there: reading a long log from its start only to throw most of it away is what this avoids.

// name: runLogsTail
// $1 run id, $2 most rows, $3 most characters of text in all (the row that crosses the limit
// is still returned, so a single long row is never hidden). Rows come newest first from the
// index on (run_id, seq); the caller puts them back in order.
const RUN_LOGS_TAIL_SQL = `
SELECT seq, attempt, step_idx, stream, at, text
  FROM (SELECT seq, attempt, step_idx, stream, at, text,
               sum(length(text)) OVER (ORDER BY seq DESC) - length(text) AS chars_after
          FROM (SELECT seq, attempt, step_idx, stream, at, text
                  FROM hostrun.run_logs WHERE run_id = $1 ORDER BY seq DESC LIMIT $2) newest) measured
 WHERE chars_after < $3
 ORDER BY seq DESC`;

// name: runLogsFirstSeq
// $1 run id. The first stored row's seq, or null for an empty log.
const RUN_LOGS_FIRST_SEQ_SQL = `SELECT min(seq) AS seq FROM hostrun.run_logs WHERE run_id = $1`;

export interface RunLogTail {
  /** Oldest first. */
  lines: RunLogRow[];
  /** Rows before the first one returned exist. */
  earlier: boolean;
}

export async function runLogsTail(db: Queryable, runId: number, maxRows: number, maxChars: number): Promise<RunLogTail> {
  const { rows } = await db.query<RunLogRow>(RUN_LOGS_TAIL_SQL, [runId, maxRows, maxChars]);
  rows.reverse();
  const first = await db.query<{ seq: number | null }>(RUN_LOGS_FIRST_SEQ_SQL, [runId]);
  const firstSeq = first.rows[0]?.seq ?? null;
  return { lines: rows, earlier: rows.length > 0 && firstSeq !== null && Number(firstSeq) < rows[0]!.seq };
}

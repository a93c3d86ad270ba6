-- 0008_packed_log_append: storing a step's output costs the database less per megabyte.
--
-- 1. append_run_logs_packed takes every line's text as one bytea, cut by byte offsets and
--    lengths, instead of a text[]. A text[] arrives as one array literal: the driver escapes
--    every quote and backslash of ~1 MiB of output, and the server parses it back character by
--    character. That parse was most of the server's CPU per flush (probe, 128 MiB in 24-row
--    statements of 42 KB rows: text[] 1,180 ms of backend CPU, bytea 830 ms; the same with lz4
--    below: 650 / 300 ms). The driver sends a Buffer in binary, untouched.
-- 2. run_logs.text is compressed with lz4 where the server was built with it. A flush's rows
--    are tens of KB each and all go to TOAST; pglz spent ~4 ms per MiB compressing them (the
--    probe above), lz4 ~0.5 ms. Only new values change; old rows stay readable as they are.
--    Servers built without lz4 (the embedded PostgreSQL is one) keep pglz.

-- name: append_run_logs_packed
-- Per line: run id, attempt, seq, step index, stream, time, byte offset and byte length of its
-- text in $8 (UTF-8). Otherwise as append_run_logs (0002_queue.sql): lines of an attempt that
-- no longer holds its run are dropped (fencing); FOR SHARE makes a takeover wait for an
-- in-flight write, so the next attempt's first seq is computed after it. `status::text` keeps
-- the fence off runs_concurrency_active_idx (see 0006_claim_log_seq.sql, 2.).
CREATE FUNCTION append_run_logs_packed(p_run_ids bigint[], p_attempts integer[], p_seqs integer[], p_steps integer[],
                                       p_streams text[], p_ats timestamptz[], p_offsets integer[], p_lengths integer[],
                                       p_texts bytea)
RETURNS integer LANGUAGE plpgsql SET jit = off AS $$
DECLARE
  inserted integer;
  ids text;
BEGIN
  INSERT INTO hostrun.run_logs (run_id, attempt, seq, step_idx, stream, at, text)
  SELECT u.run_id, u.attempt, u.seq, u.step, u.stream, u.at,
         convert_from(substring(p_texts FROM u.off + 1 FOR u.len), 'UTF8')
    FROM unnest(p_run_ids, p_attempts, p_seqs, p_steps, p_streams, p_ats, p_offsets, p_lengths)
         AS u(run_id, attempt, seq, step, stream, at, off, len)
    JOIN (SELECT r.id, r.attempt FROM hostrun.runs r
           WHERE r.id = ANY (p_run_ids) AND r.status::text IN ('claimed', 'running') FOR SHARE) r
      ON r.id = u.run_id AND r.attempt = u.attempt;
  GET DIAGNOSTICS inserted = ROW_COUNT;
  IF inserted > 0 THEN
    SELECT string_agg(DISTINCT x::text, ',') INTO ids FROM unnest(p_run_ids) AS x;
    PERFORM pg_notify('hostrun_logs', left(ids, 7900));
  END IF;
  RETURN inserted;
END
$$;

DO $$
BEGIN
  ALTER TABLE run_logs ALTER COLUMN text SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
  NULL; -- built without lz4: run_logs keeps pglz
END
$$;

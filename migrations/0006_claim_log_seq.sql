-- 0006_claim_log_seq: what claiming ahead into a worker's local queue needs from the protocol.
--
-- 1. claim_runs answers `log_seq` for every run it claims, not only for the ones it started,
--    so a worker can begin a run from its local queue at once and record the claimed ->
--    running transition in a batched start_runs that lands while the run executes. The last
--    stored seq cannot change between claim and start: log lines are fenced by attempt, and
--    the claim has just given the run a new one.
-- 2. start_runs, complete_runs and upsert_run_steps find their rows by primary key whatever the
--    statistics say. Their fence `status IN ('claimed', 'running')` is exactly the predicate of
--    runs_concurrency_active_idx; with statistics taken while those runs were still queued the
--    planner believes that index holds one row and scans all of it for every id in the batch:
--    a start of 500 runs with 500 held made 250,000 comparisons (0.6 s in EXPLAIN ANALYZE;
--    seconds per statement during the A benchmark with claiming ahead). Comparing `status::text` keeps the
--    fence but cannot prove the index predicate, so the only index left is the primary key.
-- 3. runs_record_update joins the statement's old and new rows with hash joins. Its check for
--    an illegal transition ends in LIMIT 1, which made the planner pick a nested loop over the
--    two transition tables: 250,000 comparisons (160 ms) for a start of 500 runs.
-- 4. The hot protocol functions run with jit = off. Plans pinned away from sorts and seq scans
--    (claim_runs) carry costs far above jit_above_cost, and compiling them took ~1 s per call
--    on the A benchmark's server for statements that run in milliseconds.

-- name: claim_runs
-- As in 0002_queue.sql (same parameters and result); `log_seq` is now set for every row.
CREATE OR REPLACE FUNCTION claim_runs(p_worker text, p_labels text[], p_limit integer, p_lease_seconds integer DEFAULT 60,
                                      p_start integer DEFAULT 0)
RETURNS TABLE (id bigint, project_id uuid, job_id uuid, job_name text, job_version integer, trigger text,
               inputs jsonb, target text, priority integer, attempt integer, max_attempts integer,
               timeout_seconds integer, cancel_requested_at timestamptz, created_at timestamptz,
               spec jsonb, started boolean, log_seq integer)
LANGUAGE plpgsql
SET enable_sort = off SET enable_bitmapscan = off SET enable_seqscan = off SET jit = off AS $$
DECLARE
  candidates bigint[];
  dropped bigint[] := '{}';
  claimed bigint[];
  to_start bigint[];
  grp record;
  active integer;
BEGIN
  SELECT coalesce(array_agg(c.id), '{}') INTO candidates FROM (
    SELECT r.id FROM hostrun.runs r
     WHERE r.status = 'queued' AND r.run_after <= now() AND r.labels <@ p_labels
       AND (r.concurrency_key IS NULL OR
            (SELECT count(*) FROM hostrun.runs a
              WHERE a.concurrency_key = r.concurrency_key AND a.status IN ('claimed', 'running')) < r.concurrency_max)
     ORDER BY r.priority DESC, r.run_after, r.id
     LIMIT p_limit
     FOR UPDATE SKIP LOCKED
  ) c;
  IF cardinality(candidates) = 0 THEN
    RETURN;
  END IF;

  FOR grp IN
    SELECT r.concurrency_key AS key, max(r.concurrency_max) AS max FROM hostrun.runs r
     WHERE r.id = ANY (candidates) AND r.concurrency_key IS NOT NULL GROUP BY r.concurrency_key
  LOOP
    IF pg_try_advisory_xact_lock(hashtextextended('hostrun.concurrency:' || grp.key, 0)) THEN
      -- A fresh snapshot: claims of this group committed by others are visible now.
      SELECT count(*) INTO active FROM hostrun.runs r
       WHERE r.concurrency_key = grp.key AND r.status IN ('claimed', 'running');
      dropped := dropped || ARRAY(
        SELECT r.id FROM hostrun.runs r WHERE r.id = ANY (candidates) AND r.concurrency_key = grp.key
         ORDER BY r.priority DESC, r.run_after, r.id OFFSET greatest(grp.max - active, 0));
    ELSE
      -- Another claimer is deciding this group right now; leave its runs for the next round.
      dropped := dropped || ARRAY(SELECT r.id FROM hostrun.runs r WHERE r.id = ANY (candidates) AND r.concurrency_key = grp.key);
    END IF;
  END LOOP;

  -- claimed_at/started_at are the clock now, not the transaction's start: the group counts
  -- above saw runs that finished after this transaction began (each statement of a function
  -- takes a new snapshot), and a run's claim must not read as earlier than the finish it waited for.
  WITH c AS (
    UPDATE hostrun.runs r SET status = 'claimed', attempt = r.attempt + 1, worker_id = p_worker,
           claimed_at = clock_timestamp(), lease_expires_at = now() + make_interval(secs => p_lease_seconds)
     WHERE r.id = ANY (candidates) AND NOT (r.id = ANY (dropped))
    RETURNING r.id, r.priority, r.run_after
  )
  SELECT coalesce(array_agg(c.id ORDER BY c.priority DESC, c.run_after, c.id), '{}') INTO claimed FROM c;
  to_start := claimed[1:greatest(p_start, 0)];
  IF cardinality(to_start) > 0 THEN
    UPDATE hostrun.runs r SET status = 'running', started_at = clock_timestamp() WHERE r.id = ANY (to_start);
  END IF;

  RETURN QUERY
  SELECT r.id, r.project_id, r.job_id, r.job_name, r.job_version, r.trigger, r.inputs, r.target, r.priority,
         r.attempt, r.max_attempts, r.timeout_seconds, r.cancel_requested_at, r.created_at, r.spec,
         r.id = ANY (to_start),
         coalesce((SELECT max(l.seq) FROM hostrun.run_logs l WHERE l.run_id = r.id), 0)
    FROM hostrun.runs r WHERE r.id = ANY (claimed);
END
$$;

-- name: start_runs
-- As in 0002_queue.sql; rows found by primary key (see 2. above).
CREATE OR REPLACE FUNCTION start_runs(p_worker text, p_ids bigint[], p_attempts integer[])
RETURNS TABLE (id bigint, log_seq integer) LANGUAGE sql SET jit = off AS $$
  UPDATE hostrun.runs r SET status = 'running', started_at = now()
    FROM unnest(p_ids, p_attempts) AS u(id, attempt)
   WHERE r.id = u.id AND r.attempt = u.attempt AND r.worker_id = p_worker AND r.status::text = 'claimed'
  RETURNING r.id, coalesce((SELECT max(l.seq) FROM hostrun.run_logs l WHERE l.run_id = r.id), 0)
$$;

-- name: upsert_run_steps
-- As in 0002_queue.sql; runs found by primary key (see 2. above).
CREATE OR REPLACE FUNCTION upsert_run_steps(p_run_ids bigint[], p_attempts integer[], p_steps jsonb[])
RETURNS integer LANGUAGE plpgsql SET jit = off AS $$
DECLARE
  written integer;
BEGIN
  INSERT INTO hostrun.run_steps (run_id, idx, attempt, step_id, name, status, exit_code, started_at, finished_at, outputs, error)
  SELECT u.run_id, s.idx, u.attempt, s.step_id, s.name, s.status, s.exit_code, s.started_at, s.finished_at, s.outputs, s.error
    FROM unnest(p_run_ids, p_attempts, p_steps) AS u(run_id, attempt, steps)
    JOIN hostrun.runs r ON r.id = u.run_id AND r.attempt = u.attempt AND r.status::text IN ('claimed', 'running')
   CROSS JOIN LATERAL jsonb_to_recordset(u.steps)
         AS s(idx integer, step_id text, name text, status text, exit_code integer, started_at timestamptz,
              finished_at timestamptz, outputs jsonb, error text)
  ON CONFLICT (run_id, idx) DO UPDATE SET
    attempt = EXCLUDED.attempt, step_id = EXCLUDED.step_id, name = EXCLUDED.name, status = EXCLUDED.status,
    exit_code = EXCLUDED.exit_code, started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at,
    outputs = EXCLUDED.outputs, error = EXCLUDED.error
  WHERE run_steps.attempt <= EXCLUDED.attempt;
  GET DIAGNOSTICS written = ROW_COUNT;
  RETURN written;
END
$$;

-- name: complete_runs
-- As in 0002_queue.sql (same parameters and result); runs found by primary key (see 2. above).
CREATE OR REPLACE FUNCTION complete_runs(p_worker text, p_ids bigint[], p_attempts integer[], p_statuses run_status[],
                                         p_exit_codes integer[], p_errors text[], p_outputs jsonb[], p_retry_in double precision[],
                                         p_steps jsonb[] DEFAULT NULL)
RETURNS TABLE (id bigint, status run_status) LANGUAGE plpgsql SET jit = off AS $$
#variable_conflict use_column
BEGIN
  IF p_steps IS NOT NULL THEN
    PERFORM hostrun.upsert_run_steps(p_ids, p_attempts, p_steps);
  END IF;
  -- "retry" below is: a delay was asked for, the attempt failed or timed out, attempts remain,
  -- and nobody asked to cancel. It reads the row being updated, so it is spelled out in place.
  RETURN QUERY
  UPDATE hostrun.runs r SET
    status = CASE WHEN u.retry_in IS NOT NULL AND u.status IN ('failed', 'timed_out') AND r.attempt < r.max_attempts
                       AND r.cancel_requested_at IS NULL
                  THEN 'queued'::hostrun.run_status ELSE u.status END,
    run_after = CASE WHEN u.retry_in IS NOT NULL AND u.status IN ('failed', 'timed_out') AND r.attempt < r.max_attempts
                          AND r.cancel_requested_at IS NULL
                     THEN now() + make_interval(secs => u.retry_in) ELSE r.run_after END,
    finished_at = CASE WHEN u.retry_in IS NOT NULL AND u.status IN ('failed', 'timed_out') AND r.attempt < r.max_attempts
                            AND r.cancel_requested_at IS NULL
                       THEN NULL ELSE now() END,
    worker_id = CASE WHEN u.retry_in IS NOT NULL AND u.status IN ('failed', 'timed_out') AND r.attempt < r.max_attempts
                          AND r.cancel_requested_at IS NULL
                     THEN NULL ELSE r.worker_id END,
    exit_code = u.exit_code, error = u.error, outputs = u.outputs, lease_expires_at = NULL
    FROM unnest(p_ids, p_attempts, p_statuses, p_exit_codes, p_errors, p_outputs, p_retry_in)
         AS u(id, attempt, status, exit_code, error, outputs, retry_in)
   WHERE r.id = u.id AND r.attempt = u.attempt AND r.worker_id = p_worker AND r.status::text IN ('claimed', 'running')
  RETURNING r.id, r.status;
END
$$;

ALTER FUNCTION append_run_logs(bigint[], integer[], integer[], integer[], text[], timestamptz[], text[]) SET jit = off;
ALTER FUNCTION heartbeat(text, bigint[], integer) SET jit = off;
ALTER FUNCTION release_runs(text, bigint[], integer[]) SET jit = off;
ALTER FUNCTION reap_expired_runs(integer) SET jit = off;

-- name: runs_record_update (trigger)
-- As in 0002_queue.sql; hash joins only (see 3. above).
CREATE OR REPLACE FUNCTION runs_record_update() RETURNS trigger LANGUAGE plpgsql
SET enable_nestloop = off SET jit = off AS $$
DECLARE
  bad record;
  changed integer;
BEGIN
  SELECT o.id, o.status AS from_status, n.status AS to_status INTO bad
    FROM old_runs o JOIN new_runs n ON n.id = o.id
   WHERE o.status <> n.status AND NOT hostrun.run_transition_allowed(o.status, n.status)
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'illegal run status transition for run %: % -> %', bad.id, bad.from_status, bad.to_status
      USING ERRCODE = 'check_violation', CONSTRAINT = 'runs_status_transition';
  END IF;

  INSERT INTO hostrun.run_events (run_id, project_id, attempt, from_status, to_status, worker_id, message)
  SELECT n.id, n.project_id, n.attempt, o.status, n.status, coalesce(n.worker_id, o.worker_id),
         CASE WHEN n.status IN ('failed', 'timed_out', 'canceled', 'queued') THEN n.error END
    FROM old_runs o JOIN new_runs n ON n.id = o.id
   WHERE o.status <> n.status;
  GET DIAGNOSTICS changed = ROW_COUNT;
  IF changed > 0 THEN
    PERFORM pg_notify('hostrun_events', '');
    IF EXISTS (SELECT 1 FROM new_runs n JOIN old_runs o ON o.id = n.id WHERE n.status = 'queued' AND o.status <> 'queued') THEN
      PERFORM pg_notify('hostrun_queue', '');
    END IF;
  END IF;
  RETURN NULL;
END
$$;

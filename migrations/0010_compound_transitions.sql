-- 0010_compound_transitions: one UPDATE of a run where two transitions happen back to back.
--
-- Every UPDATE of a run writes a new row version and, because `status` is in the predicates
-- of partial indexes, an entry in every index of `runs` (no HOT update). A run that a worker
-- started at once was written three times: claimed, then running (two statements inside
-- claim_runs), then its outcome; a run from the worker's local queue that finished before its
-- batched start went out was written three times too. Now:
--   * claim_runs writes queued -> running in one UPDATE for the runs it starts, and
--   * complete_runs takes the start time of a run whose start was still waiting in the
--     worker, and writes claimed -> (outcome) in one UPDATE.
-- The history is unchanged: the trigger records such a compound change as its two events
-- (queued -> claimed -> running; claimed -> running -> outcome), in that order.

-- name: runs_record_update (trigger)
-- As in 0006_claim_log_seq.sql, without the hostrun_events NOTIFY (see 0007_quiet_transitions.sql),
-- plus compound changes. One is legal when its halves are:
-- queued -> running that begins a new attempt and sets started_at is a claim and a start;
-- claimed -> X with a new started_at is a start and X.
CREATE OR REPLACE FUNCTION runs_record_update() RETURNS trigger LANGUAGE plpgsql
SET enable_nestloop = off SET jit = off AS $$
DECLARE
  bad record;
BEGIN
  SELECT o.id, o.status AS from_status, n.status AS to_status INTO bad
    FROM old_runs o JOIN new_runs n ON n.id = o.id
   WHERE o.status <> n.status AND NOT hostrun.run_transition_allowed(o.status, n.status)
     AND NOT (o.status = 'queued' AND n.status = 'running' AND n.attempt = o.attempt + 1
              AND n.started_at IS DISTINCT FROM o.started_at)
     AND NOT (o.status = 'claimed' AND n.started_at IS DISTINCT FROM o.started_at
              AND hostrun.run_transition_allowed('running', n.status))
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'illegal run status transition for run %: % -> %', bad.id, bad.from_status, bad.to_status
      USING ERRCODE = 'check_violation', CONSTRAINT = 'runs_status_transition';
  END IF;

  -- First halves of compound changes, inserted first so their ids come before the second's.
  INSERT INTO hostrun.run_events (run_id, project_id, attempt, from_status, to_status, worker_id, message)
  SELECT n.id, n.project_id, n.attempt, o.status,
         CASE WHEN o.status = 'queued' THEN 'claimed' ELSE 'running' END::hostrun.run_status,
         coalesce(n.worker_id, o.worker_id), NULL
    FROM old_runs o JOIN new_runs n ON n.id = o.id
   WHERE (o.status = 'queued' AND n.status = 'running')
      OR (o.status = 'claimed' AND n.status NOT IN ('claimed', 'running') AND n.started_at IS DISTINCT FROM o.started_at);

  INSERT INTO hostrun.run_events (run_id, project_id, attempt, from_status, to_status, worker_id, message)
  SELECT n.id, n.project_id, n.attempt,
         CASE WHEN o.status = 'queued' AND n.status = 'running' THEN 'claimed'::hostrun.run_status
              WHEN o.status = 'claimed' AND n.status NOT IN ('claimed', 'running')
                   AND n.started_at IS DISTINCT FROM o.started_at THEN 'running'::hostrun.run_status
              ELSE o.status END,
         n.status, coalesce(n.worker_id, o.worker_id),
         CASE WHEN n.status IN ('failed', 'timed_out', 'canceled', 'queued') THEN n.error END
    FROM old_runs o JOIN new_runs n ON n.id = o.id
   WHERE o.status <> n.status;
  IF EXISTS (SELECT 1 FROM new_runs n JOIN old_runs o ON o.id = n.id WHERE n.status = 'queued' AND o.status <> 'queued') THEN
    PERFORM pg_notify('hostrun_queue', '');
  END IF;
  RETURN NULL;
END
$$;

-- name: claim_runs
-- As in 0006_claim_log_seq.sql (same parameters and result), with the runs it starts written
-- queued -> running in the same UPDATE as the claim.
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

  -- The runs kept, in claim order (the rows are locked: nobody else changes them meanwhile);
  -- the first p_start of them start now.
  SELECT coalesce(array_agg(r.id ORDER BY r.priority DESC, r.run_after, r.id), '{}') INTO claimed
    FROM hostrun.runs r WHERE r.id = ANY (candidates) AND NOT (r.id = ANY (dropped));
  to_start := claimed[1:greatest(p_start, 0)];

  -- claimed_at/started_at are the clock now, not the transaction's start: the group counts
  -- above saw runs that finished after this transaction began (each statement of a function
  -- takes a new snapshot), and a run's claim must not read as earlier than the finish it waited for.
  UPDATE hostrun.runs r SET
    status = CASE WHEN r.id = ANY (to_start) THEN 'running' ELSE 'claimed' END::hostrun.run_status,
    attempt = r.attempt + 1, worker_id = p_worker, claimed_at = clock_timestamp(),
    started_at = CASE WHEN r.id = ANY (to_start) THEN clock_timestamp() ELSE r.started_at END,
    lease_expires_at = now() + make_interval(secs => p_lease_seconds)
   WHERE r.id = ANY (claimed);

  RETURN QUERY
  SELECT r.id, r.project_id, r.job_id, r.job_name, r.job_version, r.trigger, r.inputs, r.target, r.priority,
         r.attempt, r.max_attempts, r.timeout_seconds, r.cancel_requested_at, r.created_at, r.spec,
         r.id = ANY (to_start),
         coalesce((SELECT max(l.seq) FROM hostrun.run_logs l WHERE l.run_id = r.id), 0)
    FROM hostrun.runs r WHERE r.id = ANY (claimed);
END
$$;

-- name: complete_runs
-- As in 0006_claim_log_seq.sql, plus p_started_ats: per run, when it started if its start was
-- never written (NULL otherwise). Such a run is still `claimed`; it is written started and ended
-- at once. A new parameter is a new signature: the old function goes, so no call is ambiguous.
DROP FUNCTION complete_runs(text, bigint[], integer[], run_status[], integer[], text[], jsonb[], double precision[], jsonb[]);
CREATE FUNCTION complete_runs(p_worker text, p_ids bigint[], p_attempts integer[], p_statuses run_status[],
                              p_exit_codes integer[], p_errors text[], p_outputs jsonb[], p_retry_in double precision[],
                              p_steps jsonb[] DEFAULT NULL, p_started_ats timestamptz[] DEFAULT NULL)
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
    -- The worker's clock: not before the claim that the database's clock stamped.
    started_at = CASE WHEN r.status::text = 'claimed' AND u.started_at IS NOT NULL
                      THEN greatest(u.started_at, r.claimed_at) ELSE r.started_at END,
    exit_code = u.exit_code, error = u.error, outputs = u.outputs, lease_expires_at = NULL
    FROM unnest(p_ids, p_attempts, p_statuses, p_exit_codes, p_errors, p_outputs, p_retry_in,
                coalesce(p_started_ats, array_fill(NULL::timestamptz, ARRAY[cardinality(p_ids)])))
         AS u(id, attempt, status, exit_code, error, outputs, retry_in, started_at)
   WHERE r.id = u.id AND r.attempt = u.attempt AND r.worker_id = p_worker AND r.status::text IN ('claimed', 'running')
  RETURNING r.id, r.status;
END
$$;

-- 0002_queue: the run state machine and the worker protocol as SQL functions, so a worker in
-- any language speaks the same protocol as ours (src/queue/ calls exactly these).
-- Function bodies name tables with their schema: they run under the caller's search_path.

-- ---------------------------------------------------------------------------------------
-- State machine
-- ---------------------------------------------------------------------------------------

-- queued  -> claimed | canceled
-- claimed -> running | queued (lease lost) | canceled | failed (lost for good, or unpreparable)
-- running -> succeeded | failed | timed_out | canceled | queued (lease lost, or retry after failure)
-- terminal statuses never change.
CREATE FUNCTION run_transition_allowed(from_status run_status, to_status run_status)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE from_status
    WHEN 'queued'  THEN to_status IN ('claimed', 'canceled')
    WHEN 'claimed' THEN to_status IN ('running', 'queued', 'canceled', 'failed')
    WHEN 'running' THEN to_status IN ('succeeded', 'failed', 'timed_out', 'canceled', 'queued')
    ELSE false
  END
$$;

-- Statement-level triggers with transition tables: one event insert and one NOTIFY per
-- statement however many rows it touched, which is what keeps batched claims and
-- completions cheap while every transition is still on record.
CREATE FUNCTION runs_record_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO hostrun.run_events (run_id, project_id, attempt, from_status, to_status, worker_id, message)
  SELECT n.id, n.project_id, n.attempt, NULL, n.status, n.worker_id, NULL FROM new_runs n;
  PERFORM pg_notify('hostrun_events', '');
  IF EXISTS (SELECT 1 FROM new_runs WHERE status = 'queued') THEN
    PERFORM pg_notify('hostrun_queue', '');
  END IF;
  RETURN NULL;
END
$$;

CREATE FUNCTION runs_record_update() RETURNS trigger LANGUAGE plpgsql AS $$
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

-- Children without foreign keys (see 0001_init.sql) leave with their run, one statement each.
CREATE FUNCTION runs_delete_children() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM hostrun.run_steps WHERE run_id IN (SELECT id FROM old_runs);
  DELETE FROM hostrun.run_logs WHERE run_id IN (SELECT id FROM old_runs);
  DELETE FROM hostrun.run_events WHERE run_id IN (SELECT id FROM old_runs);
  RETURN NULL;
END
$$;

CREATE TRIGGER runs_delete_children AFTER DELETE ON runs
  REFERENCING OLD TABLE AS old_runs FOR EACH STATEMENT EXECUTE FUNCTION runs_delete_children();
CREATE TRIGGER runs_record_insert AFTER INSERT ON runs
  REFERENCING NEW TABLE AS new_runs FOR EACH STATEMENT EXECUTE FUNCTION runs_record_insert();
CREATE TRIGGER runs_record_update AFTER UPDATE ON runs
  REFERENCING OLD TABLE AS old_runs NEW TABLE AS new_runs FOR EACH STATEMENT EXECUTE FUNCTION runs_record_update();

-- ---------------------------------------------------------------------------------------
-- Worker protocol
-- ---------------------------------------------------------------------------------------

-- name: claim_runs
-- $1 worker id, $2 the worker's labels, $3 how many at most, $4 lease length in seconds,
-- $5 how many of them to start at once (the worker's free slots; the rest wait in its local
-- queue and are started with start_runs). Returns the claimed runs with `started` and, for
-- started ones, `log_seq` (the last log sequence number already stored for the run).
-- Takes queued, due runs in claim order (priority, then age) that need no label the worker
-- lacks, skipping rows another claimer holds. Concurrency groups are checked under a
-- per-group advisory lock so two claimers can never both fill the last slot of a group.
-- Starting in the same transaction saves the round trip that would otherwise hold each free
-- slot; both transitions (queued -> claimed -> running) are still recorded.
--
-- The SET clauses pin the plan to walking runs_queued_idx in claim order and stopping after
-- p_limit rows. Left to itself, with statistics that lag a burst of inserts, the planner
-- picks a bitmap scan and sorts every queued run on each claim: O(queue) instead of O(limit).
CREATE FUNCTION claim_runs(p_worker text, p_labels text[], p_limit integer, p_lease_seconds integer DEFAULT 60,
                           p_start integer DEFAULT 0)
RETURNS TABLE (id bigint, project_id uuid, job_id uuid, job_name text, job_version integer, trigger text,
               inputs jsonb, target text, priority integer, attempt integer, max_attempts integer,
               timeout_seconds integer, cancel_requested_at timestamptz, created_at timestamptz,
               spec jsonb, started boolean, log_seq integer)
LANGUAGE plpgsql
SET enable_sort = off SET enable_bitmapscan = off SET enable_seqscan = off AS $$
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

  WITH c AS (
    UPDATE hostrun.runs r SET status = 'claimed', attempt = r.attempt + 1, worker_id = p_worker,
           claimed_at = now(), lease_expires_at = now() + make_interval(secs => p_lease_seconds)
     WHERE r.id = ANY (candidates) AND NOT (r.id = ANY (dropped))
    RETURNING r.id, r.priority, r.run_after
  )
  SELECT coalesce(array_agg(c.id ORDER BY c.priority DESC, c.run_after, c.id), '{}') INTO claimed FROM c;
  to_start := claimed[1:greatest(p_start, 0)];
  IF cardinality(to_start) > 0 THEN
    UPDATE hostrun.runs r SET status = 'running', started_at = now() WHERE r.id = ANY (to_start);
  END IF;

  RETURN QUERY
  SELECT r.id, r.project_id, r.job_id, r.job_name, r.job_version, r.trigger, r.inputs, r.target, r.priority,
         r.attempt, r.max_attempts, r.timeout_seconds, r.cancel_requested_at, r.created_at, r.spec,
         r.id = ANY (to_start),
         CASE WHEN r.id = ANY (to_start)
              THEN coalesce((SELECT max(l.seq) FROM hostrun.run_logs l WHERE l.run_id = r.id), 0) END
    FROM hostrun.runs r WHERE r.id = ANY (claimed);
END
$$;

-- name: start_runs
-- $1 worker id, $2 run ids, $3 the attempt each was claimed as.
-- Returns the runs that started and the last log sequence number already stored for each,
-- so a retried attempt continues the run's log instead of overwriting it.
CREATE FUNCTION start_runs(p_worker text, p_ids bigint[], p_attempts integer[])
RETURNS TABLE (id bigint, log_seq integer) LANGUAGE sql AS $$
  UPDATE hostrun.runs r SET status = 'running', started_at = now()
    FROM unnest(p_ids, p_attempts) AS u(id, attempt)
   WHERE r.id = u.id AND r.attempt = u.attempt AND r.worker_id = p_worker AND r.status = 'claimed'
  RETURNING r.id, coalesce((SELECT max(l.seq) FROM hostrun.run_logs l WHERE l.run_id = r.id), 0)
$$;

CREATE FUNCTION start_run(p_worker text, p_id bigint, p_attempt integer)
RETURNS integer LANGUAGE sql AS $$
  SELECT log_seq FROM hostrun.start_runs(p_worker, ARRAY[p_id], ARRAY[p_attempt])
$$;

-- name: upsert_run_steps
-- $1 run ids, $2 their attempts, $3 per run a JSON array of step states
-- ({idx, step_id, name, status, exit_code, started_at, finished_at, outputs, error}).
-- Writes only for the attempt that holds the run, and never lets an older attempt's state
-- replace a newer one's.
CREATE FUNCTION upsert_run_steps(p_run_ids bigint[], p_attempts integer[], p_steps jsonb[])
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  written integer;
BEGIN
  INSERT INTO hostrun.run_steps (run_id, idx, attempt, step_id, name, status, exit_code, started_at, finished_at, outputs, error)
  SELECT u.run_id, s.idx, u.attempt, s.step_id, s.name, s.status, s.exit_code, s.started_at, s.finished_at, s.outputs, s.error
    FROM unnest(p_run_ids, p_attempts, p_steps) AS u(run_id, attempt, steps)
    JOIN hostrun.runs r ON r.id = u.run_id AND r.attempt = u.attempt AND r.status IN ('claimed', 'running')
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
-- $1 worker id; then per run: id, attempt, final status, exit code, error, outputs,
-- retry_in_seconds (non-NULL asks for another attempt that much later, if attempts remain;
-- the delay is applied with the database's clock so workers' clocks do not matter), and the
-- final states of its steps not yet written (as for upsert_run_steps; NULL for none), so a
-- run's last step states and its outcome land in one statement.
-- Fenced: only the worker holding the current attempt can complete a run.
CREATE FUNCTION complete_runs(p_worker text, p_ids bigint[], p_attempts integer[], p_statuses run_status[],
                              p_exit_codes integer[], p_errors text[], p_outputs jsonb[], p_retry_in double precision[],
                              p_steps jsonb[] DEFAULT NULL)
RETURNS TABLE (id bigint, status run_status) LANGUAGE plpgsql AS $$
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
   WHERE r.id = u.id AND r.attempt = u.attempt AND r.worker_id = p_worker AND r.status IN ('claimed', 'running')
  RETURNING r.id, r.status;
END
$$;

CREATE FUNCTION complete_run(p_worker text, p_id bigint, p_attempt integer, p_status run_status,
                             p_exit_code integer, p_error text, p_outputs jsonb DEFAULT NULL,
                             p_retry_in double precision DEFAULT NULL)
RETURNS run_status LANGUAGE sql AS $$
  SELECT status FROM hostrun.complete_runs(p_worker, ARRAY[p_id], ARRAY[p_attempt], ARRAY[p_status],
                                           ARRAY[p_exit_code], ARRAY[p_error], ARRAY[p_outputs], ARRAY[p_retry_in], NULL)
$$;

-- name: release_runs
-- $1 worker id, $2 run ids, $3 their attempts. A worker shutting down hands runs back to
-- the queue: one it never started does not use up an attempt (attempt - 1); one it had to
-- interrupt keeps its attempt number but gets one more allowed, so a deploy does not eat
-- into the retry budget.
CREATE FUNCTION release_runs(p_worker text, p_ids bigint[], p_attempts integer[])
RETURNS TABLE (id bigint) LANGUAGE sql AS $$
  UPDATE hostrun.runs r SET
    status = 'queued', worker_id = NULL, lease_expires_at = NULL, run_after = now(),
    attempt = CASE WHEN r.status = 'claimed' THEN r.attempt - 1 ELSE r.attempt END,
    max_attempts = CASE WHEN r.status = 'running' THEN r.max_attempts + 1 ELSE r.max_attempts END,
    error = CASE WHEN r.status = 'running' THEN 'interrupted: worker shut down' ELSE r.error END
    FROM unnest(p_ids, p_attempts) AS u(id, attempt)
   WHERE r.id = u.id AND r.attempt = u.attempt AND r.worker_id = p_worker AND r.status IN ('claimed', 'running')
  RETURNING r.id
$$;

-- name: append_run_logs
-- Per line: run id, attempt, seq, step index, stream, time, text. Lines of an attempt that
-- no longer holds its run are dropped (fencing); FOR SHARE makes a takeover wait for an
-- in-flight write, so the next attempt's first seq is computed after it.
CREATE FUNCTION append_run_logs(p_run_ids bigint[], p_attempts integer[], p_seqs integer[], p_steps integer[],
                                p_streams text[], p_ats timestamptz[], p_texts text[])
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  inserted integer;
  ids text;
BEGIN
  INSERT INTO hostrun.run_logs (run_id, attempt, seq, step_idx, stream, at, text)
  SELECT u.run_id, u.attempt, u.seq, u.step, u.stream, u.at, u.text
    FROM unnest(p_run_ids, p_attempts, p_seqs, p_steps, p_streams, p_ats, p_texts)
         AS u(run_id, attempt, seq, step, stream, at, text)
    JOIN (SELECT r.id, r.attempt FROM hostrun.runs r
           WHERE r.id = ANY (p_run_ids) AND r.status IN ('claimed', 'running') FOR SHARE) r
      ON r.id = u.run_id AND r.attempt = u.attempt;
  GET DIAGNOSTICS inserted = ROW_COUNT;
  IF inserted > 0 THEN
    SELECT string_agg(DISTINCT x::text, ',') INTO ids FROM unnest(p_run_ids) AS x;
    PERFORM pg_notify('hostrun_logs', left(ids, 7900));
  END IF;
  RETURN inserted;
END
$$;

CREATE FUNCTION append_run_log(p_run_id bigint, p_attempt integer, p_seq integer, p_step integer,
                               p_stream text, p_text text)
RETURNS boolean LANGUAGE sql AS $$
  SELECT hostrun.append_run_logs(ARRAY[p_run_id], ARRAY[p_attempt], ARRAY[p_seq], ARRAY[p_step],
                                 ARRAY[p_stream], ARRAY[now()], ARRAY[p_text]) = 1
$$;

-- name: heartbeat
-- $1 worker id, $2 the runs it believes it holds, $3 lease length in seconds.
-- Extends the leases it still holds and says which of them have a cancel request; a run
-- missing from the answer was taken from this worker (its lease expired): stop it, write nothing.
CREATE FUNCTION heartbeat(p_worker text, p_run_ids bigint[], p_lease_seconds integer DEFAULT 60)
RETURNS TABLE (run_id bigint, cancel_requested boolean) LANGUAGE plpgsql AS $$
BEGIN
  UPDATE hostrun.workers SET last_heartbeat_at = now(), stopped_at = NULL WHERE id = p_worker;
  RETURN QUERY
  UPDATE hostrun.runs r SET lease_expires_at = now() + make_interval(secs => p_lease_seconds)
   WHERE r.id = ANY (p_run_ids) AND r.worker_id = p_worker AND r.status IN ('claimed', 'running')
  RETURNING r.id, r.cancel_requested_at IS NOT NULL;
END
$$;

-- name: reap_expired_runs
-- $1 how many at most. Runs whose lease ran out go back to the queue with the next attempt,
-- or fail as "worker lost" when none remain (or are canceled if a cancel was pending).
CREATE FUNCTION reap_expired_runs(p_limit integer DEFAULT 1000)
RETURNS TABLE (id bigint, status run_status) LANGUAGE sql AS $$
  UPDATE hostrun.runs r SET
    status = CASE WHEN r.cancel_requested_at IS NOT NULL THEN 'canceled'::hostrun.run_status
                  WHEN r.attempt < r.max_attempts THEN 'queued'::hostrun.run_status
                  ELSE 'failed'::hostrun.run_status END,
    error = CASE WHEN r.cancel_requested_at IS NOT NULL THEN 'canceled (worker lost)'
                 ELSE 'worker lost: lease expired on attempt ' || r.attempt END,
    finished_at = CASE WHEN r.cancel_requested_at IS NULL AND r.attempt < r.max_attempts THEN NULL ELSE now() END,
    run_after = now(), lease_expires_at = NULL
    FROM (SELECT e.id FROM hostrun.runs e
           WHERE e.status IN ('claimed', 'running') AND e.lease_expires_at < now()
           ORDER BY e.lease_expires_at LIMIT p_limit FOR UPDATE SKIP LOCKED) x
   WHERE r.id = x.id
  RETURNING r.id, r.status
$$;

-- name: cancel_run
-- $1 run id. A queued run is canceled at once; a claimed or running one gets a cancel
-- request that its worker acts on (NOTIFY now, heartbeat as the fallback). Returns the
-- run's status after the call, or NULL if it was already finished.
CREATE FUNCTION cancel_run(p_id bigint, p_reason text DEFAULT 'canceled')
RETURNS run_status LANGUAGE plpgsql AS $$
DECLARE
  result hostrun.run_status;
BEGIN
  UPDATE hostrun.runs SET
    status = CASE WHEN status = 'queued' THEN 'canceled'::hostrun.run_status ELSE status END,
    finished_at = CASE WHEN status = 'queued' THEN now() ELSE finished_at END,
    error = CASE WHEN status = 'queued' THEN p_reason ELSE error END,
    cancel_requested_at = coalesce(cancel_requested_at, now())
   WHERE id = p_id AND status IN ('queued', 'claimed', 'running')
  RETURNING status INTO result;
  IF result IN ('claimed', 'running') THEN
    PERFORM pg_notify('hostrun_cancel', p_id::text);
  END IF;
  RETURN result;
END
$$;

-- name: list_queued_runs
-- $1 project id (NULL: all projects), $2 how many. The admin view of what waits, in claim order.
CREATE FUNCTION list_queued_runs(p_project uuid, p_limit integer DEFAULT 100)
RETURNS SETOF runs LANGUAGE sql STABLE AS $$
  SELECT * FROM hostrun.runs
   WHERE status = 'queued' AND (p_project IS NULL OR project_id = p_project)
   ORDER BY priority DESC, run_after, id
   LIMIT p_limit
$$;

-- 0013_hot_queue: the queue's moving parts leave `runs`, so claiming and finishing a run
-- rewrites its row in place (a HOT update) instead of writing it into every index of `runs`.
--
-- Until now `runs` carried three indexes whose predicates name `status` (the claim order of
-- queued runs, the leases of runs in flight, concurrency groups in flight). PostgreSQL can only
-- update a row without touching its indexes (HOT) when no indexed column and no column of an
-- index predicate changes; a status change changes both, so the claim and the completion of
-- every run inserted a new entry into each of runs' indexes: 8 of the ~18 B-tree inserts a
-- run cost (bench/NOTES.md, fourth round).
--
-- Now:
--   * run_queue holds one narrow row per queued run, with exactly what a claim filters and
--     orders by. A claim locks rows here and the run leaves it when its status does.
--   * run_leases holds one row per run a worker holds (claimed or running): its worker and
--     lease expiry, and its concurrency group. The reaper, heartbeats and concurrency limits
--     read only this table; it is as small as the work in flight.
--   * runs keeps the status and the whole history, and its remaining indexes never change
--     after the insert, so status changes are HOT as long as the page has room: `runs` leaves
--     room on new pages (fillfactor) for the two row versions a run is written as.
-- A run's step states move into the run row too (runs.steps, a JSON array), out of run_steps:
-- a short run's steps are written by the same UPDATE that records its outcome, instead of as
-- rows of their own (an insert into a table and its index per step, ~13 µs per run). The
-- column is `json`, kept as the worker wrote it: converting each run's steps to jsonb cost
-- ~4 µs of the completion statement per run, and nothing queries inside them.
--
-- runs stays the truth. The statement triggers that record every transition also keep
-- run_queue in step with it (a run is in run_queue exactly while it is queued), and drop a
-- lease when its run leaves claimed/running; claim_runs, the only way a run is claimed,
-- writes the lease with the claim.
--
-- Both tables churn (a row in and out per run) and are vacuumed after ~1,000 dead rows. They
-- are never truncated by VACUUM: truncating takes an ACCESS EXCLUSIVE lock on the table, which
-- every claim and enqueue would queue behind, to hand back pages the next burst fills again.
--
-- Lock order, so claims and cancels cannot deadlock: a run_queue row before its runs row. A
-- claim locks queue rows (SKIP LOCKED) and then updates the runs; cancel_run and the cancel of
-- a deleted job's runs lock the queue row first too. The reaper locks runs rows (SKIP LOCKED)
-- before their leases, as completions do.

CREATE TABLE run_queue (
  run_id          bigint PRIMARY KEY,
  priority        integer NOT NULL,
  run_after       timestamptz NOT NULL,
  labels          text[] NOT NULL,
  concurrency_key text,
  concurrency_max integer
) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_cost_delay = 0,
        vacuum_truncate = false);
-- The claim path: in claim order, and nothing else is in this table.
CREATE INDEX run_queue_claim_idx ON run_queue (priority DESC, run_after, run_id);

CREATE TABLE run_leases (
  run_id           bigint PRIMARY KEY,
  worker_id        text NOT NULL,
  lease_expires_at timestamptz NOT NULL,
  concurrency_key  text
) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_cost_delay = 0,
        vacuum_truncate = false);
-- Concurrency groups: how many runs of a group are in flight.
CREATE INDEX run_leases_concurrency_idx ON run_leases (concurrency_key) WHERE concurrency_key IS NOT NULL;

INSERT INTO run_queue (run_id, priority, run_after, labels, concurrency_key, concurrency_max)
SELECT id, priority, run_after, labels, concurrency_key, concurrency_max FROM runs WHERE status = 'queued';
INSERT INTO run_leases (run_id, worker_id, lease_expires_at, concurrency_key)
SELECT id, coalesce(worker_id, ''), coalesce(lease_expires_at, now()), concurrency_key
  FROM runs WHERE status IN ('claimed', 'running') AND worker_id IS NOT NULL;

DROP INDEX runs_queued_idx;
DROP INDEX runs_lease_idx;
DROP INDEX runs_concurrency_active_idx;
ALTER TABLE runs DROP COLUMN lease_expires_at;
-- Room on each new page for the versions a run is written as (queued, running, finished): an
-- update is HOT only when its new version fits on the same page. Old versions are pruned as
-- pages are read, so the room is reused.
ALTER TABLE runs SET (fillfactor = 50);
-- No plan depends on how many runs have which status any more (that is what run_queue and
-- run_leases are for), so runs is analyzed as often as any table again, not after every 2 %
-- of it changed (0011_queue_autovacuum.sql): on a busy queue that was an ANALYZE per visit.
ALTER TABLE runs RESET (autovacuum_analyze_scale_factor);

-- Step states: per run, a JSON array of {idx, attempt, step_id, name, status, exit_code,
-- started_at, finished_at, outputs, error} (keys whose value is null may be left out; times in
-- epoch milliseconds), in idx order. Existing rows move in once (with the status triggers off:
-- no status changes here).
ALTER TABLE runs ADD COLUMN steps json;
ALTER TABLE runs DISABLE TRIGGER USER;
UPDATE runs r SET steps = s.steps
  FROM (SELECT run_id, json_agg(json_strip_nulls(json_build_object('idx', idx, 'attempt', attempt, 'step_id', step_id, 'name', name,
                                                                   'status', status, 'exit_code', exit_code,
                                                                   'started_at', round(extract(epoch FROM started_at) * 1000),
                                                                   'finished_at', round(extract(epoch FROM finished_at) * 1000),
                                                                   'outputs', outputs, 'error', error))
                                ORDER BY idx) AS steps
          FROM run_steps GROUP BY run_id) s
 WHERE r.id = s.run_id;
ALTER TABLE runs ENABLE TRIGGER USER;
DROP TABLE run_steps;

-- name: run_steps_merged
-- $1 a run's step states, $2 newer states of some of its steps: $1 with each step of $2
-- replaced (or added), in idx order.
CREATE FUNCTION run_steps_merged(p_old json, p_new json) RETURNS json LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT json_agg(coalesce(n.s, o.s) ORDER BY coalesce(n.i, o.i))
    FROM (SELECT (e->>'idx')::integer AS i, e AS s FROM json_array_elements(p_old) AS e) o
    FULL JOIN (SELECT (e->>'idx')::integer AS i, e AS s FROM json_array_elements(p_new) AS e) n ON n.i = o.i
$$;

-- name: upsert_run_steps
-- $1 run ids, $2 their attempts, $3 per run a JSON array of step states (as runs.steps holds
-- them; the steps not named keep their state). Writes only for the attempt that holds the run.
-- Returns how many runs were written. (Step states are json now: the jsonb[] form goes.)
DROP FUNCTION upsert_run_steps(bigint[], integer[], jsonb[]);
CREATE FUNCTION upsert_run_steps(p_run_ids bigint[], p_attempts integer[], p_steps json[])
RETURNS integer LANGUAGE plpgsql SET jit = off SET enable_seqscan = off AS $$
DECLARE
  written integer;
BEGIN
  UPDATE hostrun.runs r SET steps = CASE WHEN r.steps IS NULL THEN u.steps ELSE hostrun.run_steps_merged(r.steps, u.steps) END
    FROM unnest(p_run_ids, p_attempts, p_steps) AS u(run_id, attempt, steps)
   WHERE r.id = u.run_id AND r.attempt = u.attempt AND r.status::text IN ('claimed', 'running') AND u.steps IS NOT NULL;
  GET DIAGNOSTICS written = ROW_COUNT;
  RETURN written;
END
$$;

-- name: runs_delete_children (trigger)
-- As in 0002_queue.sql, and a deleted run leaves run_queue and run_leases too: a queue row
-- without its run would be claimed, found missing and claimed again, at the head of the queue.
CREATE OR REPLACE FUNCTION runs_delete_children() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM hostrun.run_queue WHERE run_id IN (SELECT id FROM old_runs);
  DELETE FROM hostrun.run_leases WHERE run_id IN (SELECT id FROM old_runs);
  DELETE FROM hostrun.run_logs WHERE run_id IN (SELECT id FROM old_runs);
  DELETE FROM hostrun.run_events WHERE run_id IN (SELECT id FROM old_runs);
  RETURN NULL;
END
$$;

-- name: runs_record_insert (trigger)
-- As in 0007_quiet_transitions.sql, and a run inserted queued joins run_queue.
CREATE OR REPLACE FUNCTION runs_record_insert() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
BEGIN
  INSERT INTO hostrun.run_events (run_id, project_id, attempt, from_status, to_status, worker_id, message)
  SELECT n.id, n.project_id, n.attempt, NULL, n.status, n.worker_id, NULL FROM new_runs n;
  INSERT INTO hostrun.run_queue (run_id, priority, run_after, labels, concurrency_key, concurrency_max)
  SELECT n.id, n.priority, n.run_after, n.labels, n.concurrency_key, n.concurrency_max FROM new_runs n WHERE n.status = 'queued';
  IF FOUND THEN
    PERFORM pg_notify('hostrun_queue', '');
  END IF;
  RETURN NULL;
END
$$;

-- name: runs_record_update (trigger)
-- As in 0010_compound_transitions.sql (the same checks and events; the check in one pass with
-- the bookkeeping below), and run_queue and run_leases follow the status: a run leaving
-- `queued` leaves run_queue, one entering it joins (a retry, a release, a reaped lease), one
-- leaving claimed/running loses its lease. A queued run whose queue columns change (only by
-- hand) has them changed in run_queue too.
CREATE OR REPLACE FUNCTION runs_record_update() RETURNS trigger LANGUAGE plpgsql
SET enable_nestloop = off SET jit = off AS $$
DECLARE
  illegal bigint;
  bad record;
  left_queue bigint[];
  left_flight bigint[];
  requeued bigint[];
  restamped bigint[];
BEGIN
  -- One pass over the statement's rows: the first illegal change, if any (compound changes are
  -- legal when their halves are: queued -> running that begins a new attempt and sets started_at
  -- is a claim and a start; claimed -> X with a new started_at is a start and X), and which runs
  -- left the queue, left flight, came back to the queue, or (by hand) changed their queue columns
  -- while queued. run_queue and run_leases are then changed through their primary keys (a join
  -- with the transition tables would hash all of run_queue for every claim).
  SELECT min(o.id) FILTER (WHERE o.status <> n.status AND NOT hostrun.run_transition_allowed(o.status, n.status)
                             AND NOT (o.status = 'queued' AND n.status = 'running' AND n.attempt = o.attempt + 1
                                      AND n.started_at IS DISTINCT FROM o.started_at)
                             AND NOT (o.status = 'claimed' AND n.started_at IS DISTINCT FROM o.started_at
                                      AND hostrun.run_transition_allowed('running', n.status))),
         coalesce(array_agg(o.id) FILTER (WHERE o.status = 'queued' AND n.status <> 'queued'), '{}'),
         coalesce(array_agg(o.id) FILTER (WHERE o.status IN ('claimed', 'running') AND n.status NOT IN ('claimed', 'running')), '{}'),
         coalesce(array_agg(o.id) FILTER (WHERE n.status = 'queued' AND o.status <> 'queued'), '{}'),
         coalesce(array_agg(o.id) FILTER (WHERE o.status = 'queued' AND n.status = 'queued'
                  AND (o.priority, o.run_after, o.labels, o.concurrency_key, o.concurrency_max)
                      IS DISTINCT FROM (n.priority, n.run_after, n.labels, n.concurrency_key, n.concurrency_max)), '{}')
    INTO illegal, left_queue, left_flight, requeued, restamped
    FROM old_runs o JOIN new_runs n ON n.id = o.id;
  IF illegal IS NOT NULL THEN
    SELECT o.id, o.status AS from_status, n.status AS to_status INTO bad
      FROM old_runs o JOIN new_runs n ON n.id = o.id WHERE o.id = illegal;
    RAISE EXCEPTION 'illegal run status transition for run %: % -> %', bad.id, bad.from_status, bad.to_status
      USING ERRCODE = 'check_violation', CONSTRAINT = 'runs_status_transition';
  END IF;

  -- First halves of compound changes, inserted first so their ids come before the second's.
  -- (One INSERT producing both halves per run through a LATERAL VALUES measured slower.)
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

  IF cardinality(left_queue) > 0 THEN
    DELETE FROM hostrun.run_queue q WHERE q.run_id = ANY (left_queue);
  END IF;
  IF cardinality(left_flight) > 0 THEN
    DELETE FROM hostrun.run_leases l WHERE l.run_id = ANY (left_flight);
  END IF;
  IF cardinality(restamped) > 0 THEN
    UPDATE hostrun.run_queue q SET priority = n.priority, run_after = n.run_after, labels = n.labels,
           concurrency_key = n.concurrency_key, concurrency_max = n.concurrency_max
      FROM new_runs n WHERE n.id = ANY (restamped) AND q.run_id = n.id;
  END IF;
  IF cardinality(requeued) > 0 THEN
    INSERT INTO hostrun.run_queue (run_id, priority, run_after, labels, concurrency_key, concurrency_max)
    SELECT n.id, n.priority, n.run_after, n.labels, n.concurrency_key, n.concurrency_max
      FROM new_runs n WHERE n.id = ANY (requeued);
    PERFORM pg_notify('hostrun_queue', '');
  END IF;
  RETURN NULL;
END
$$;

-- name: claim_runs
-- As in 0010_compound_transitions.sql (same parameters and result), reading run_queue and
-- run_leases, writing each claimed run's lease, and updating the runs in one statement that
-- returns them.
CREATE OR REPLACE FUNCTION claim_runs(p_worker text, p_labels text[], p_limit integer, p_lease_seconds integer DEFAULT 60,
                                      p_start integer DEFAULT 0)
RETURNS TABLE (id bigint, project_id uuid, job_id uuid, job_name text, job_version integer, trigger text,
               inputs jsonb, target text, priority integer, attempt integer, max_attempts integer,
               timeout_seconds integer, cancel_requested_at timestamptz, created_at timestamptz,
               spec jsonb, started boolean, log_seq integer)
LANGUAGE plpgsql
SET enable_sort = off SET enable_bitmapscan = off SET enable_seqscan = off SET jit = off AS $$
#variable_conflict use_column
DECLARE
  candidates bigint[];
  grouped boolean;
  dropped bigint[] := '{}';
  claimed bigint[];
  to_start bigint[];
  grp record;
  active integer;
BEGIN
  SELECT coalesce(array_agg(c.run_id ORDER BY c.priority DESC, c.run_after, c.run_id), '{}'),
         coalesce(bool_or(c.concurrency_key IS NOT NULL), false)
    INTO candidates, grouped
    FROM (SELECT q.run_id, q.priority, q.run_after, q.concurrency_key FROM hostrun.run_queue q
           WHERE q.run_after <= now() AND q.labels <@ p_labels
             AND (q.concurrency_key IS NULL OR
                  (SELECT count(*) FROM hostrun.run_leases a WHERE a.concurrency_key = q.concurrency_key) < q.concurrency_max)
           ORDER BY q.priority DESC, q.run_after, q.run_id
           LIMIT p_limit
           FOR UPDATE SKIP LOCKED) c;
  IF cardinality(candidates) = 0 THEN
    RETURN;
  END IF;

  IF grouped THEN
    FOR grp IN
      SELECT q.concurrency_key AS key, max(q.concurrency_max) AS max FROM hostrun.run_queue q
       WHERE q.run_id = ANY (candidates) AND q.concurrency_key IS NOT NULL GROUP BY q.concurrency_key
    LOOP
      IF pg_try_advisory_xact_lock(hashtextextended('hostrun.concurrency:' || grp.key, 0)) THEN
        -- A fresh snapshot: claims of this group committed by others are visible now.
        SELECT count(*) INTO active FROM hostrun.run_leases l WHERE l.concurrency_key = grp.key;
        dropped := dropped || ARRAY(
          SELECT q.run_id FROM hostrun.run_queue q WHERE q.run_id = ANY (candidates) AND q.concurrency_key = grp.key
           ORDER BY q.priority DESC, q.run_after, q.run_id OFFSET greatest(grp.max - active, 0));
      ELSE
        -- Another claimer is deciding this group right now; leave its runs for the next round.
        dropped := dropped || ARRAY(SELECT q.run_id FROM hostrun.run_queue q WHERE q.run_id = ANY (candidates) AND q.concurrency_key = grp.key);
      END IF;
    END LOOP;
  END IF;

  -- The runs kept, in claim order; the first p_start of them start now.
  claimed := ARRAY(SELECT c.id FROM unnest(candidates) WITH ORDINALITY AS c(id, i) WHERE NOT (c.id = ANY (dropped)) ORDER BY c.i);
  to_start := claimed[1:greatest(p_start, 0)];

  -- claimed_at/started_at are the clock now, not the transaction's start: the group counts
  -- above saw runs that finished after this transaction began (each statement of a function
  -- takes a new snapshot), and a run's claim must not read as earlier than the finish it waited for.
  RETURN QUERY
  WITH c AS (
    UPDATE hostrun.runs r SET
      status = CASE WHEN r.id = ANY (to_start) THEN 'running' ELSE 'claimed' END::hostrun.run_status,
      attempt = r.attempt + 1, worker_id = p_worker, claimed_at = clock_timestamp(),
      started_at = CASE WHEN r.id = ANY (to_start) THEN clock_timestamp() ELSE r.started_at END
     WHERE r.id = ANY (claimed) AND r.status::text = 'queued'
    RETURNING r.id, r.project_id, r.job_id, r.job_name, r.job_version, r.trigger, r.inputs, r.target, r.priority,
              r.attempt, r.max_attempts, r.timeout_seconds, r.cancel_requested_at, r.created_at, r.spec,
              r.concurrency_key
  ), leased AS (
    INSERT INTO hostrun.run_leases (run_id, worker_id, lease_expires_at, concurrency_key)
    SELECT c.id, p_worker, now() + make_interval(secs => p_lease_seconds), c.concurrency_key FROM c
  )
  SELECT c.id, c.project_id, c.job_id, c.job_name, c.job_version, c.trigger, c.inputs, c.target, c.priority,
         c.attempt, c.max_attempts, c.timeout_seconds, c.cancel_requested_at, c.created_at, c.spec,
         c.id = ANY (to_start),
         coalesce((SELECT max(l.seq) FROM hostrun.run_logs l WHERE l.run_id = c.id), 0)
    FROM c;
END
$$;

-- name: complete_runs_json
-- $1 worker id, $2 the runs as one JSON array of {id, attempt, status, exit_code, error,
-- outputs, retry_in, started_at, steps} (a key left out is null): per run its final status,
-- exit code, error, outputs, retry_in (seconds: non-NULL asks for another attempt that much
-- later, if attempts remain; the delay is applied with the database's clock), started_at (epoch
-- milliseconds, when it started, if its start was never written: it is still `claimed` and is
-- written started and ended at once) and steps (the step states not written yet, as runs.steps
-- holds them). Returns each run's status after the
-- call (`queued` when a retry was scheduled); runs missing from the answer were fenced off.
--
-- As complete_runs of 0010_compound_transitions.sql, with three changes. The batch is one JSON
-- document: the driver sends it as it is, where ten parallel arrays (two of them arrays of JSON
-- texts) were escaped element by element on the way out and parsed back on the way in. The
-- last step states are written by the same UPDATE as the outcome. And runs are found by
-- primary key only: without the partial indexes the planner estimated `worker_id = $1` from
-- statistics taken while the runs were queued (worker NULL) as one row, so it scanned all of
-- runs and joined the batch to it in a nested loop (250 runs: 62,250 comparisons, 40 ms, on a
-- table of 20,000; history makes it worse); by primary key the same is ~1 ms.
CREATE FUNCTION complete_runs_json(p_worker text, p_runs json)
RETURNS TABLE (id bigint, status run_status) LANGUAGE plpgsql SET jit = off SET enable_seqscan = off AS $$
#variable_conflict use_column
BEGIN
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
                      THEN greatest(to_timestamp(u.started_at / 1000), r.claimed_at) ELSE r.started_at END,
    steps = CASE WHEN u.steps IS NULL THEN r.steps WHEN r.steps IS NULL THEN u.steps
                 ELSE hostrun.run_steps_merged(r.steps, u.steps) END,
    exit_code = u.exit_code, error = u.error, outputs = u.outputs
    FROM json_to_recordset(p_runs) AS u(id bigint, attempt integer, status hostrun.run_status, exit_code integer, error text,
                                        outputs jsonb, retry_in double precision, started_at double precision, steps json)
   WHERE r.id = u.id AND r.attempt = u.attempt AND r.worker_id = p_worker AND r.status::text IN ('claimed', 'running')
  RETURNING r.id, r.status;
END
$$;

-- name: complete_runs
-- As in 0010_compound_transitions.sql (same parameters and result, for callers that send
-- arrays; step times in epoch milliseconds, as runs.steps holds them): the arrays become
-- complete_runs_json's document.
CREATE OR REPLACE FUNCTION complete_runs(p_worker text, p_ids bigint[], p_attempts integer[], p_statuses run_status[],
                                         p_exit_codes integer[], p_errors text[], p_outputs jsonb[], p_retry_in double precision[],
                                         p_steps jsonb[] DEFAULT NULL, p_started_ats timestamptz[] DEFAULT NULL)
RETURNS TABLE (id bigint, status run_status) LANGUAGE sql SET jit = off AS $$
  SELECT c.id, c.status FROM hostrun.complete_runs_json(p_worker,
    (SELECT coalesce(json_agg(json_build_object('id', u.id, 'attempt', u.attempt, 'status', u.status, 'exit_code', u.exit_code,
                                                'error', u.error, 'outputs', u.outputs, 'retry_in', u.retry_in,
                                                'started_at', extract(epoch FROM u.started_at) * 1000, 'steps', u.steps::json)
                              ORDER BY u.i), '[]')
       FROM unnest(p_ids, p_attempts, p_statuses, p_exit_codes, p_errors, p_outputs, p_retry_in,
                   coalesce(p_started_ats, array_fill(NULL::timestamptz, ARRAY[cardinality(p_ids)])),
                   coalesce(p_steps, array_fill(NULL::jsonb, ARRAY[cardinality(p_ids)])))
            WITH ORDINALITY AS u(id, attempt, status, exit_code, error, outputs, retry_in, started_at, steps, i))) c
$$;

-- start_runs (0006_claim_log_seq.sql) joins its batch to runs the same way: by primary key only.
ALTER FUNCTION start_runs(text, bigint[], integer[]) SET enable_seqscan = off;

-- name: release_runs
-- As in 0002_queue.sql, without the lease column (the trigger drops the lease and requeues).
CREATE OR REPLACE FUNCTION release_runs(p_worker text, p_ids bigint[], p_attempts integer[])
RETURNS TABLE (id bigint) LANGUAGE sql SET jit = off SET enable_seqscan = off AS $$
  UPDATE hostrun.runs r SET
    status = 'queued', worker_id = NULL, run_after = now(),
    attempt = CASE WHEN r.status = 'claimed' THEN r.attempt - 1 ELSE r.attempt END,
    max_attempts = CASE WHEN r.status = 'running' THEN r.max_attempts + 1 ELSE r.max_attempts END,
    error = CASE WHEN r.status = 'running' THEN 'interrupted: worker shut down' ELSE r.error END
    FROM unnest(p_ids, p_attempts) AS u(id, attempt)
   WHERE r.id = u.id AND r.attempt = u.attempt AND r.worker_id = p_worker AND r.status::text IN ('claimed', 'running')
  RETURNING r.id
$$;

-- name: heartbeat
-- As in 0002_queue.sql: extends the leases the worker still holds (in run_leases) and says
-- which of those runs have a cancel request.
CREATE OR REPLACE FUNCTION heartbeat(p_worker text, p_run_ids bigint[], p_lease_seconds integer DEFAULT 60)
RETURNS TABLE (run_id bigint, cancel_requested boolean) LANGUAGE plpgsql SET jit = off AS $$
BEGIN
  UPDATE hostrun.workers SET last_heartbeat_at = now(), stopped_at = NULL WHERE id = p_worker;
  RETURN QUERY
  UPDATE hostrun.run_leases l SET lease_expires_at = now() + make_interval(secs => p_lease_seconds)
    FROM hostrun.runs r
   WHERE l.run_id = ANY (p_run_ids) AND l.worker_id = p_worker AND r.id = l.run_id
  RETURNING l.run_id, r.cancel_requested_at IS NOT NULL;
END
$$;

-- name: reap_expired_runs
-- As in 0002_queue.sql, finding expired leases in run_leases. The runs rows are locked (SKIP
-- LOCKED) before their leases change, in the order a completion locks them, so a reap racing
-- a late completion skips that run instead of deadlocking with it.
CREATE OR REPLACE FUNCTION reap_expired_runs(p_limit integer DEFAULT 1000)
RETURNS TABLE (id bigint, status run_status) LANGUAGE sql SET jit = off AS $$
  UPDATE hostrun.runs r SET
    status = CASE WHEN r.cancel_requested_at IS NOT NULL THEN 'canceled'::hostrun.run_status
                  WHEN r.attempt < r.max_attempts THEN 'queued'::hostrun.run_status
                  ELSE 'failed'::hostrun.run_status END,
    error = CASE WHEN r.cancel_requested_at IS NOT NULL THEN 'canceled (worker lost)'
                 ELSE 'worker lost: lease expired on attempt ' || r.attempt END,
    finished_at = CASE WHEN r.cancel_requested_at IS NULL AND r.attempt < r.max_attempts THEN NULL ELSE now() END,
    run_after = now()
    FROM (SELECT e.id FROM hostrun.run_leases l JOIN hostrun.runs e ON e.id = l.run_id
           WHERE l.lease_expires_at < now() AND e.status::text IN ('claimed', 'running')
           ORDER BY l.lease_expires_at LIMIT p_limit FOR UPDATE OF e SKIP LOCKED) x
   WHERE r.id = x.id
  RETURNING r.id, r.status
$$;

-- name: cancel_run
-- As in 0005_fanout.sql; a queued run's queue row is locked first (see the lock order above).
CREATE OR REPLACE FUNCTION cancel_run(p_id bigint, p_reason text DEFAULT 'canceled')
RETURNS run_status LANGUAGE plpgsql AS $$
DECLARE
  result hostrun.run_status;
BEGIN
  PERFORM 1 FROM hostrun.run_queue WHERE run_id = p_id FOR UPDATE;
  UPDATE hostrun.runs SET
    status = CASE WHEN status = 'queued' THEN 'canceled'::hostrun.run_status ELSE status END,
    finished_at = CASE WHEN status = 'queued' THEN now() ELSE finished_at END,
    error = CASE WHEN status = 'queued' THEN p_reason ELSE error END,
    cancel_requested_at = coalesce(cancel_requested_at, now())
   WHERE id = p_id AND status IN ('queued', 'claimed', 'running')
  RETURNING status INTO result;
  IF result IN ('claimed', 'running') THEN
    PERFORM pg_notify('hostrun_cancel', p_id::text);
    PERFORM hostrun.cancel_run(c.id, p_reason) FROM hostrun.runs c
     WHERE c.parent_run_id = p_id AND c.status IN ('queued', 'claimed', 'running')
     ORDER BY c.id;
  END IF;
  RETURN result;
END
$$;

-- name: list_queued_runs
-- As in 0002_queue.sql, in claim order from run_queue.
CREATE OR REPLACE FUNCTION list_queued_runs(p_project uuid, p_limit integer DEFAULT 100)
RETURNS SETOF runs LANGUAGE sql STABLE AS $$
  SELECT r.* FROM hostrun.run_queue q JOIN hostrun.runs r ON r.id = q.run_id
   WHERE p_project IS NULL OR r.project_id = p_project
   ORDER BY q.priority DESC, q.run_after, q.run_id
   LIMIT p_limit
$$;

-- run_events: keyed by (run_id, id), which is how a run's history is read, instead of by id
-- plus a (run_id, id) index: every status change writes one index entry fewer.
ALTER TABLE run_events DROP CONSTRAINT run_events_pkey;
DROP INDEX run_events_run_idx;
ALTER TABLE run_events ADD CONSTRAINT run_events_pkey PRIMARY KEY (run_id, id);

-- The project event stream reads events by id (after a cursor, up to a settled id), and events
-- are inserted in id order: a BRIN index over id finds those pages for almost nothing per
-- insert, where the B-tree (project_id, id) cost an index insert per status change. Small
-- ranges keep the newest, unsummarized range (always scanned) to 16 pages.
DROP INDEX run_events_project_idx;
CREATE INDEX run_events_id_brin ON run_events USING brin (id) WITH (pages_per_range = 16, autosummarize = on);

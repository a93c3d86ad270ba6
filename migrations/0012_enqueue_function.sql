-- 0012_enqueue_function: the enqueue INSERT as a function, planned once per connection.
--
-- A run's INSERT is an unnest of twenty parameter arrays; sent as a statement, PostgreSQL
-- parsed and planned it on every enqueue, which was most of the time a lone Run now spends
-- before its commit (~0.25 ms of ~0.7 ms). PL/pgSQL keeps a statement's plan for the life of
-- the connection. A named prepared statement would do the same from the client, but PgBouncer
-- in transaction mode (before 1.21, or without max_prepared_statements) cannot carry those.

-- name: enqueue_runs
-- One INSERT for any number of runs (parallel arrays, one element per run). Scheduled runs carry
-- (schedule_id, fire_at): a second insert of the same fire time is skipped by the unique index,
-- which is what makes any number of schedulers fire each time exactly once. Returns the ids of
-- the runs actually created, in request order.
CREATE FUNCTION enqueue_runs(p_project_ids uuid[], p_job_ids uuid[], p_job_names text[], p_job_versions integer[],
                             p_triggers text[], p_schedule_ids uuid[], p_fire_ats timestamptz[], p_inputs jsonb[],
                             p_targets text[], p_labels jsonb[], p_priorities integer[], p_max_attempts integer[],
                             p_run_afters timestamptz[], p_concurrency_keys text[], p_concurrency_maxes integer[],
                             p_timeout_seconds integer[], p_created_bys uuid[], p_parent_run_ids bigint[],
                             p_specs jsonb[], p_statuses run_status[])
RETURNS TABLE (run_id bigint) LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY
  INSERT INTO hostrun.runs AS r (project_id, job_id, job_name, job_version, trigger, schedule_id, fire_at, inputs,
                            target, labels, priority, max_attempts, run_after, concurrency_key, concurrency_max,
                            timeout_seconds, created_by, parent_run_id, spec, status, started_at)
  SELECT u.project_id, u.job_id, u.job_name, u.job_version, u.trigger, u.schedule_id, u.fire_at, u.inputs,
         u.target, ARRAY(SELECT jsonb_array_elements_text(u.labels)), u.priority, u.max_attempts,
         coalesce(u.run_after, now()), u.concurrency_key, u.concurrency_max, u.timeout_seconds, u.created_by,
         u.parent_run_id, u.spec, u.status, CASE WHEN u.status = 'running' THEN now() END
    FROM unnest(p_project_ids, p_job_ids, p_job_names, p_job_versions, p_triggers, p_schedule_ids, p_fire_ats,
                p_inputs, p_targets, p_labels, p_priorities, p_max_attempts, p_run_afters, p_concurrency_keys,
                p_concurrency_maxes, p_timeout_seconds, p_created_bys, p_parent_run_ids, p_specs, p_statuses)
         WITH ORDINALITY AS u(project_id, job_id, job_name, job_version, trigger, schedule_id, fire_at, inputs,
                              target, labels, priority, max_attempts, run_after, concurrency_key, concurrency_max,
                              timeout_seconds, created_by, parent_run_id, spec, status, ord)
   ORDER BY u.ord
  ON CONFLICT (schedule_id, fire_at) WHERE schedule_id IS NOT NULL DO NOTHING
  RETURNING r.id;
END
$$;
